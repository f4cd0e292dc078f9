"""Which region of an organisation a question belongs to.

Sources, in order; the first that names a region decides:
1. the signature: "regio Breda", "locatie Zwolle", "Raad voor de Kinderbescherming, regio ..."
2. the sender's address, when senders.toml lists that address with a region;
3. place names in the text (municipalities, everyday names, merged municipalities,
   villages, courts, provinces), mapped through the organisation's region table; a
   municipality weighs more than a province;
4. the region of the sender's domain in senders.toml.
When the places point to different regions, the most mentioned region wins with a lower
confidence, and all candidates are reported. Nothing found: no region, confidence 0 (the
engine then uses the organisation's default region).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from email.utils import parseaddr

from rules.model import Sender
from rules.places import Mention, Place
from rules.ruleset import RuleSet

SIGNATURE = 0.9
SENDER_ADDRESS = 0.85
TEXT_ONCE = 0.8
TEXT_REPEATED = 0.9
TEXT_PROVINCE = 0.6
SENDER_DOMAIN = 0.5
UNSURE = 0.7  # an uncertain choice scores at most this times its share of the mentions


@dataclass(frozen=True)
class RegionResult:
    region: str | None
    confidence: float
    reason: str  # in Dutch, for people
    place: str | None = None  # the municipality, province or region name that decided
    candidates: tuple[str, ...] = ()  # every region found, the chosen one first

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def known_sender(sender: str, ruleset: RuleSet) -> Sender | None:
    """The senders.toml entry for an address: the address itself wins over its domain."""
    return _by_address(sender, ruleset) or _by_domain(sender, ruleset)


def resolve_region(*, organisation: str, text: str, signature: str = "", sender: str = "",
                   ruleset: RuleSet) -> RegionResult:
    if not ruleset.regions_of(organisation):
        return RegionResult(None, 0.0, f"{organisation} heeft geen regio's")
    by_address, by_domain = _by_address(sender, ruleset), _by_domain(sender, ruleset)
    sender_regions = _sender_regions(by_address or by_domain, organisation, ruleset)
    return (
        _from_signature(organisation, signature, ruleset)
        or _from_sender(organisation, by_address, SENDER_ADDRESS, ruleset)
        or _from_text(organisation, text, sender_regions, ruleset)
        or _from_sender(organisation, by_domain, SENDER_DOMAIN, ruleset)
        or RegionResult(None, 0.0, "Geen plaats of regio gevonden")
    )


# --- the sources ------------------------------------------------------------------------

def _from_signature(organisation: str, signature: str, ruleset: RuleSet) -> RegionResult | None:
    mentions = [m for m in ruleset.places.find(signature) if m.after_keyword]
    tally = _tally(mentions, organisation, ruleset)
    if not tally:
        return None
    return _verdict(tally, "in de handtekening", SIGNATURE, SIGNATURE, ())


def _from_sender(organisation: str, sender: Sender | None, sure: float, ruleset: RuleSet) -> RegionResult | None:
    regions = _sender_regions(sender, organisation, ruleset)
    if sender is None or not regions:
        return None
    what = f"afzender {sender.label} ({sender.organisation} {sender.region})"
    if len(regions) == 1:
        return RegionResult(regions[0], sure, f"Regio van de {what}: regio {regions[0]}", None, regions)
    return RegionResult(regions[0], round(sure * UNSURE / len(regions), 2),
                        f"Regio van de {what} valt onder {_or(regions)}; gekozen: {regions[0]}, onzeker",
                        None, regions)


def _from_text(organisation: str, text: str, sender_regions: tuple[str, ...],
               ruleset: RuleSet) -> RegionResult | None:
    tally = _tally(ruleset.places.find(text), organisation, ruleset)
    if not tally:
        return None
    only_provinces = all(t.level == "province" for t in tally.values())
    sure = TEXT_PROVINCE if only_provinces else TEXT_ONCE
    repeated = TEXT_PROVINCE if only_provinces else TEXT_REPEATED
    return _verdict(tally, "in de tekst", sure, repeated, sender_regions)


# --- weighing the mentions ----------------------------------------------------------------

@dataclass
class _Count:
    score: float = 0.0
    first: int = 0
    level: str = "province"
    places: list[str] = field(default_factory=list)  # as written, with the official name
    decisive: str | None = None  # the municipality or province behind the first mention


def _tally(mentions: Iterable[Mention], organisation: str, ruleset: RuleSet) -> dict[str, _Count]:
    """Region -> how often and where it is named; a municipality outweighs a province."""
    tally: dict[str, _Count] = {}
    for mention in mentions:
        meanings, level = _regions_for(mention, organisation, ruleset)
        regions = _unique(region for region, _ in meanings)
        for region in regions:
            official = [name for r, name in meanings if r == region]
            first_time = region not in tally
            count = tally.setdefault(region, _Count(first=mention.start))
            count.score += 1 / len(regions)
            if first_time or (count.level == "province" and level != "province"):
                count.level, count.decisive = level, official[0] if len(official) == 1 else None
            described = _described(mention, official)
            if described not in count.places:
                count.places.append(described)
    if any(c.level != "province" for c in tally.values()):
        tally = {r: c for r, c in tally.items() if c.level != "province"}
    return tally


def _verdict(tally: dict[str, _Count], where: str, once: float, repeated: float,
             sender_regions: tuple[str, ...]) -> RegionResult:
    ranked = sorted(tally, key=lambda r: (-tally[r].score, tally[r].first))
    best = tally[ranked[0]]
    tied = [r for r in ranked if tally[r].score == best.score]
    choice, why = ranked[0], "het vaakst genoemd"
    if len(tied) > 1:
        preferred = next((r for r in tied if r in sender_regions), None)
        choice, why = (preferred, "de regio van de afzender") if preferred else (ranked[0], "als eerste genoemd")
    ranked.remove(choice)
    ranked.insert(0, choice)
    chosen = tally[choice]
    if len(ranked) == 1:
        confidence = repeated if chosen.score >= 2 else once
        reason = f"{_joined(chosen.places)} {where}: regio {choice}"
        return RegionResult(choice, confidence, reason, chosen.decisive, (choice,))
    total = sum(c.score for c in tally.values())
    confidence = round(once * UNSURE * chosen.score / total, 2)
    found = "; ".join(f"{r} ({_joined(tally[r].places)})" for r in ranked)
    reason = f"Meerdere regio's {where}: {found}; gekozen: {choice}, {why}"
    return RegionResult(choice, confidence, reason, chosen.decisive, tuple(ranked))


def _regions_for(mention: Mention, organisation: str,
                 ruleset: RuleSet) -> tuple[list[tuple[str, str]], str]:
    """(region, official name) for each meaning of a mention, and how precise it is."""
    place = mention.place
    own = _own_name(place, organisation)
    if mention.after_keyword and own:
        return [(own, own)], "region"
    if place.municipalities:
        return _known((ruleset.region_of_municipality(organisation, m), m) for m in place.municipalities), \
            "municipality"
    if place.provinces:
        return [(r, p) for p in place.provinces for r in ruleset.regions_of_province(organisation, p)], "province"
    if mention.after_keyword:
        return [(r, name) for o, name in place.regions
                for r in _translated(o, name, organisation, ruleset)], "region"
    return [], ""


def _sender_regions(sender: Sender | None, organisation: str, ruleset: RuleSet) -> tuple[str, ...]:
    if sender is None or not sender.region:
        return ()
    return _translated(sender.organisation, sender.region, organisation, ruleset)


def _translated(from_organisation: str, region: str, organisation: str, ruleset: RuleSet) -> tuple[str, ...]:
    """The regions of `organisation` that cover region `region` of another organisation."""
    if from_organisation == organisation:
        return (region,)
    return _unique(
        ruleset.region_of_municipality(organisation, m)
        for m in ruleset.municipalities
        if ruleset.region_of_municipality(from_organisation, m) == region
    )


# --- senders ----------------------------------------------------------------------------

@lru_cache(maxsize=4096)  # the same senders, over and over: parsed once each
def _address(sender: str) -> str:
    return parseaddr(sender)[1].strip().lower()


def _by_address(sender: str, ruleset: RuleSet) -> Sender | None:
    address = _address(sender)
    return ruleset.sender_by_address(address) if address else None


def _by_domain(sender: str, ruleset: RuleSet) -> Sender | None:
    domain = _address(sender).rpartition("@")[2]
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        found = ruleset.sender_by_domain(".".join(labels[i:]))
        if found:
            return found
    return None


# --- wording ----------------------------------------------------------------------------

def _own_name(place: Place, organisation: str) -> str:
    return next((name for org, name in place.regions if org == organisation), "")


def _described(mention: Mention, official: list[str]) -> str:
    written = " ".join(mention.written.split())
    return written if official == [written] else f"{written} ({_or(official)})"


def _joined(names: list[str]) -> str:
    return ", ".join(names)


def _or(names: Iterable[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " of " + names[-1]


def _known(pairs: Iterable[tuple[str | None, str]]) -> list[tuple[str, str]]:
    return [(region, name) for region, name in pairs if region]


def _unique(names: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))
