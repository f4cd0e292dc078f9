"""Loading the rules folder, validated on load.

`load_ruleset` reads themes.toml, regions.toml, senders.toml, routing.toml and places.toml
from the admin's rules folder, with the municipality list gemeenten-2025.csv; places.toml
and the municipality list fall back to the packaged ones in rules/data/ (they describe the
country, not the organisation). Each file is checked on its own and against the others;
every problem raises `RulesError` with one line naming the file, the line and the key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from rules.files import TomlFile, did_you_mean, listed, read_text, shown
from rules.model import ORGANISATIONS, STRATEGIES, Region, Rule, RulesError, Sender, Theme, looks_like_email
from rules.places import Place, PlaceIndex, name_key
from rules.ruleset import RuleSet

DEFAULT_FOLDER = Path(__file__).parent / "data"
MUNICIPALITY_FILE = "gemeenten-2025.csv"
PLACE_TABLES = ("everyday", "merged", "villages", "courts", "areas")


def load_ruleset(folder: Path) -> RuleSet:
    """All routing data of one rules folder, checked file by file and against each other."""
    folder = Path(folder)
    municipalities = _load_municipalities(_own_or_packaged(folder, MUNICIPALITY_FILE))
    themes = _load_themes(TomlFile(folder / "themes.toml"))
    regions = _load_regions(TomlFile(folder / "regions.toml"), municipalities)
    senders = _load_senders(TomlFile(folder / "senders.toml"), regions)
    places = _load_places(TomlFile(_own_or_packaged(folder, "places.toml")), municipalities, regions)
    routing = TomlFile(folder / "routing.toml")
    rules, strategy = _load_routing(routing, themes, regions, {s.organisation for s in senders})
    return RuleSet(
        folder=folder,
        themes=themes,
        regions=regions,
        senders=senders,
        rules=rules,
        strategy=strategy,
        municipalities=municipalities,
        places=PlaceIndex(places),
        routing_file=routing.path,
        rule_lines={rule.name: routing.line("rule", i) for i, rule in enumerate(rules)},
    )


def _own_or_packaged(folder: Path, name: str) -> Path:
    own = folder / name
    return own if own.exists() else DEFAULT_FOLDER / name


# --- municipalities ---------------------------------------------------------------------

def _load_municipalities(path: Path) -> dict[str, str]:
    """CBS municipality name -> province."""
    shown_path = shown(path)
    rows = csv.DictReader(io.StringIO(read_text(path)))
    missing = {"Gemeentenaam", "Provincienaam"} - set(rows.fieldnames or ())
    if missing:
        raise RulesError(f"{shown_path}:1: missing column {', '.join(sorted(missing))}")
    municipalities: dict[str, str] = {}
    for row in rows:
        name, province = (row.get("Gemeentenaam") or "").strip(), (row.get("Provincienaam") or "").strip()
        if not name or not province:
            raise RulesError(f"{shown_path}:{rows.line_num}: empty Gemeentenaam or Provincienaam")
        if name in municipalities:
            raise RulesError(f"{shown_path}:{rows.line_num}: municipality '{name}' is listed twice")
        municipalities[name] = province
    return municipalities


# --- themes.toml ------------------------------------------------------------------------

def _load_themes(src: TomlFile) -> dict[str, Theme]:
    _only(src, "theme")
    themes: dict[str, Theme] = {}
    for i, raw in enumerate(src.tables("theme")):
        theme: Theme = src.entry(Theme, raw, "theme", i, f"theme {raw.get('key', i + 1)!r}")
        if theme.key in themes:
            raise src.error(f"theme '{theme.key}': listed twice", "theme", i, "key")
        themes[theme.key] = theme
    if not themes:
        raise src.error("no [[theme]] tables")
    return themes


# --- regions.toml -----------------------------------------------------------------------

def _load_regions(src: TomlFile, municipalities: Mapping[str, str]) -> tuple[Region, ...]:
    _only(src, "region")
    regions: list[Region] = []
    for i, raw in enumerate(src.tables("region")):
        region: Region = src.entry(Region, raw, "region", i, f"region {raw.get('name', i + 1)!r}")
        _check_region(src, i, region, regions, municipalities)
        regions.append(region)
    for i, region in enumerate(regions):
        _check_region_links(src, i, region, regions)
    for organisation in dict.fromkeys(r.organisation for r in regions):
        _check_coverage(src, organisation, regions, municipalities)
    return tuple(regions)


def _check_region(src: TomlFile, i: int, region: Region, earlier: list[Region],
                  municipalities: Mapping[str, str]) -> None:
    label = f"region '{region.name}'"
    provinces = set(municipalities.values())
    if region.organisation not in ORGANISATIONS:
        raise src.error(f"{label}: organisation '{region.organisation}' is not one of {listed(ORGANISATIONS)}",
                        "region", i, "organisation")
    if any(r.organisation == region.organisation and r.name == region.name for r in earlier):
        raise src.error(f"{label}: {region.organisation} has this region twice", "region", i, "name")
    for province in region.provinces:
        if province not in provinces:
            raise src.error(f"{label}: province '{province}' is not in {MUNICIPALITY_FILE}"
                            f"{did_you_mean(province, provinces)}", "region", i, "provinces")
    for municipality in region.municipalities:
        if municipality not in municipalities:
            raise src.error(f"{label}: municipality '{municipality}' is not in {MUNICIPALITY_FILE}"
                            f"{did_you_mean(municipality, municipalities)}", "region", i, "municipalities")


def _check_region_links(src: TomlFile, i: int, region: Region, regions: list[Region]) -> None:
    label = f"region '{region.name}'"
    own = [r for r in regions if r.organisation == region.organisation]
    for name in region.overflow:
        if name == region.name:
            raise src.error(f"{label}: overflow to itself", "region", i, "overflow")
        if name not in {r.name for r in own}:
            raise src.error(f"{label}: overflow '{name}' is not a region of {region.organisation}",
                            "region", i, "overflow")
    if len(set(region.overflow)) != len(region.overflow):
        raise src.error(f"{label}: overflow names a region twice", "region", i, "overflow")
    earlier = own[:own.index(region)]
    if region.default and any(r.default for r in earlier):
        first = next(r for r in earlier if r.default)
        raise src.error(f"{label}: {region.organisation} has two default regions (also '{first.name}')",
                        "region", i, "default")
    for key in ("provinces", "municipalities"):
        for name in getattr(region, key):
            other = next((r for r in earlier if name in getattr(r, key)), None)
            if other:
                raise src.error(f"{label}: '{name}' is also in {key} of region '{other.name}'", "region", i, key)


def _check_coverage(src: TomlFile, organisation: str, regions: list[Region],
                    municipalities: Mapping[str, str]) -> None:
    own = [r for r in regions if r.organisation == organisation]
    first = regions.index(own[0])
    if not any(r.default for r in own):
        raise src.error(f"region '{own[0].name}': {organisation} has no default region "
                        "(set default = true on one)", "region", first)
    covered = {p for r in own for p in r.provinces}
    named = {m for r in own for m in r.municipalities}
    for municipality, province in municipalities.items():
        if province not in covered and municipality not in named:
            raise src.error(f"{organisation}: province '{province}' (municipality '{municipality}') "
                            "belongs to no region", "region", first)


# --- senders.toml -----------------------------------------------------------------------

def _load_senders(src: TomlFile, regions: tuple[Region, ...]) -> tuple[Sender, ...]:
    _only(src, "sender")
    senders: list[Sender] = []
    for i, raw in enumerate(src.tables("sender")):
        label = f"sender '{raw.get('address') or raw.get('domain') or i + 1}'"
        sender: Sender = src.entry(Sender, raw, "sender", i, label)
        if bool(sender.address) == bool(sender.domain):
            raise src.error(f"{label}: give either address or domain", "sender", i)
        if sender.address and not looks_like_email(sender.address):
            raise src.error(f"{label}: not an e-mail address", "sender", i, "address")
        if sender.domain and ("@" in sender.domain or "." not in sender.domain):
            raise src.error(f"{label}: a domain looks like 'example.nl', without '@'", "sender", i, "domain")
        if sender.region and sender.region not in {r.name for r in regions if r.organisation == sender.organisation}:
            raise src.error(f"{label}: region '{sender.region}' is not a region of {sender.organisation}",
                            "sender", i, "region")
        if any(s.label == sender.label for s in senders):
            raise src.error(f"{label}: listed twice", "sender", i)
        senders.append(sender)
    return tuple(senders)


# --- places.toml ------------------------------------------------------------------------

def _load_places(src: TomlFile, municipalities: Mapping[str, str], regions: tuple[Region, ...]) -> list[Place]:
    _only(src, "common_words", *PLACE_TABLES)
    provinces = sorted(set(municipalities.values()))
    places = [Place(name, municipalities=(name,)) for name in municipalities]
    places += [Place(name, provinces=(name,)) for name in provinces]
    official = {name_key(p.name) for p in places}
    seen: dict[str, str] = {}  # name -> the table that lists it
    for table in PLACE_TABLES:
        for name, value in src.table(table).items():
            where = (table, None, name)
            if name_key(name) in official:
                raise src.error(f"{table} '{name}': already a municipality or province in {MUNICIPALITY_FILE}", *where)
            if name_key(name) in seen:
                raise src.error(f"{table} '{name}': also in [{seen[name_key(name)]}]", *where)
            seen[name_key(name)] = table
            targets = [value] if isinstance(value, str) else value
            if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
                raise src.error(f"{table} '{name}': give a municipality or province name, or a list of them", *where)
            for target in targets:
                if target not in municipalities and target not in provinces:
                    raise src.error(f"{table} '{name}': '{target}' is neither a municipality nor a province in "
                                    f"{MUNICIPALITY_FILE}{did_you_mean(target, [*municipalities, *provinces])}",
                                    *where)
            places.append(Place(name, municipalities=tuple(t for t in targets if t in municipalities),
                                provinces=tuple(t for t in targets if t not in municipalities)))
    places += [Place(r.name, regions=((r.organisation, r.name),)) for r in regions]
    return _mark_common_words(src, places)


def _mark_common_words(src: TomlFile, places: list[Place]) -> list[Place]:
    words = src.data.get("common_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise src.error("common_words: give a list of names", key="common_words")
    known = {name_key(p.name) for p in places}
    for word in words:
        if name_key(word) not in known:
            raise src.error(f"common_words: '{word}' is not a place name listed here or in {MUNICIPALITY_FILE}",
                            key="common_words")
    common = {name_key(w) for w in words}
    return [Place(p.name, p.municipalities, p.provinces, p.regions, name_key(p.name) in common) for p in places]


# --- routing.toml -----------------------------------------------------------------------

def _load_routing(src: TomlFile, themes: Mapping[str, Theme], regions: tuple[Region, ...],
                  sender_organisations: set[str]) -> tuple[tuple[Rule, ...], dict[str, str]]:
    _only(src, "rule", "strategy")
    askers = set(ORGANISATIONS) | sender_organisations
    rules: list[Rule] = []
    for i, raw in enumerate(src.tables("rule")):
        rule: Rule = src.entry(Rule, raw, "rule", i, f"rule {raw.get('name', i + 1)!r}")
        problem = _rule_problem(rule, rules, themes, regions, askers)
        if problem:
            key, message = problem
            raise src.error(f"rule '{rule.name}': {message}", "rule", i, key)
        rules.append(rule)
    return tuple(rules), _load_strategy(src)


def _rule_problem(rule: Rule, earlier: list[Rule], themes: Mapping[str, Theme], regions: tuple[Region, ...],
                  askers: set[str]) -> tuple[str, str] | None:
    """(key, what is wrong) for the first problem of a rule, if any."""
    if any(r.name == rule.name for r in earlier):
        return "name", "another rule has this name"
    for theme in rule.theme:
        if theme not in themes:
            return "theme", f"theme '{theme}' is not in themes.toml{did_you_mean(theme, themes)}"
    for organisation in rule.organisation:
        if organisation not in ORGANISATIONS:
            return "organisation", f"organisation '{organisation}' is not one of {listed(ORGANISATIONS)}"
    for organisation in rule.asking_organisation:
        if organisation not in askers:
            return "asking_organisation", (f"asking_organisation '{organisation}' is not one of "
                                           f"{listed(sorted(askers))}")
    scope = rule.organisation or ORGANISATIONS
    for key, names in (("region", rule.region), ("assign_region", (rule.assign_region or "",))):
        for name in filter(None, names):
            if not any(r.name == name and r.organisation in scope for r in regions):
                return key, f"{key} '{name}' is not a region of {listed(scope)}"
    low, high = rule.min_confidence, rule.max_confidence
    if low is not None and high is not None and low > high:
        return "max_confidence", "max_confidence is below min_confidence"
    if rule.assign and rule.assign_region:
        return "assign_region", "give assign or assign_region, not both"
    if rule.review and rule.assigns:
        return "review", "a rule that sends to review does not also assign"
    if any(not word.strip() for word in rule.words):
        return "words", "empty word"
    return None


def _load_strategy(src: TomlFile) -> dict[str, str]:
    strategy: dict[str, str] = {}
    for organisation, name in src.table("strategy").items():
        if organisation not in ORGANISATIONS:
            raise src.error(f"strategy: '{organisation}' is not one of {listed(ORGANISATIONS)}",
                            "strategy", None, organisation)
        if name not in STRATEGIES:
            raise src.error(f"strategy: {organisation} = '{name}' is not one of {listed(STRATEGIES)}",
                            "strategy", None, organisation)
        strategy[organisation] = name
    return strategy


# --- helpers ----------------------------------------------------------------------------

def _only(src: TomlFile, *allowed: str) -> None:
    for key in src.data:
        if key not in allowed:
            raise RulesError(f"{src.name}:{src.top_line(key)}: unknown key '{key}' (expected {listed(allowed)})")
