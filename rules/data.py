"""Loading the rules folder and the contacts file, validated on load.

`load_ruleset` reads themes.toml, regions.toml, senders.toml, routing.toml and places.toml
from the admin's rules folder, with the municipality list gemeenten-2025.csv; places.toml
and the municipality list fall back to the packaged ones in rules/data/ (they describe the
country, not the organisation). `load_contacts` reads the contact persons' CSV file.
Every problem raises `RulesError` with one line naming the file, the line and the key.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import ValidationError

from rules.model import (
    COORDINATOR, ORGANISATIONS, STRATEGIES, Contact, Region, Rule, RulesError, Sender, Theme,
    looks_like_email,
)
from rules.places import Place, PlaceIndex, name_key
from rules.ruleset import RuleSet
from rules.tomlsource import TomlFile, shown

DEFAULT_FOLDER = Path(__file__).parent / "data"
MUNICIPALITY_FILE = "gemeenten-2025.csv"
PLACE_TABLES = ("everyday", "merged", "villages", "courts", "areas")
CONTACT_COLUMNS = ("name", "email", "organisation", "region", "location", "themes", "capacity", "active")
OPTIONAL_CONTACT_COLUMNS = ("role", "deputy")


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
    rows = csv.DictReader(io.StringIO(_read_text(path)))
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
    provinces = set(municipalities.values())
    regions: list[Region] = []
    for i, raw in enumerate(src.tables("region")):
        region: Region = src.entry(Region, raw, "region", i, f"region {raw.get('name', i + 1)!r}")

        def fail(key: str, message: str) -> RulesError:
            return src.error(f"region '{region.name}': {message}", "region", i, key)

        if region.organisation not in ORGANISATIONS:
            raise fail("organisation", f"organisation '{region.organisation}' is not one of {_listed(ORGANISATIONS)}")
        if any(r.organisation == region.organisation and r.name == region.name for r in regions):
            raise fail("name", f"{region.organisation} has this region twice")
        for province in region.provinces:
            if province not in provinces:
                raise fail("provinces", f"'{province}' is not a province{_did_you_mean(province, provinces)}")
        for municipality in region.municipalities:
            if municipality not in municipalities:
                raise fail("municipalities", f"'{municipality}' is not a municipality in {MUNICIPALITY_FILE}"
                                             f"{_did_you_mean(municipality, municipalities)}")
        regions.append(region)
    for i, region in enumerate(regions):
        _check_region_links(src, i, region, regions)
    for organisation in dict.fromkeys(r.organisation for r in regions):
        _check_coverage(src, organisation, regions, municipalities)
    return tuple(regions)


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
    covered_provinces = {p for r in own for p in r.provinces}
    listed = {m for r in own for m in r.municipalities}
    for municipality, province in municipalities.items():
        if province not in covered_provinces and municipality not in listed:
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
    provinces = set(municipalities.values())
    places = [Place(name, municipalities=(name,)) for name in municipalities]
    places += [Place(name, provinces=(name,)) for name in sorted(provinces)]
    official = {name_key(p.name) for p in places}
    seen: dict[str, str] = {}
    for table in PLACE_TABLES:
        for name, value in src.table(table).items():
            def fail(message: str) -> RulesError:
                return src.error(f"{table} '{name}': {message}", table, None, name)

            targets = [value] if isinstance(value, str) else value
            if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
                raise fail("give a municipality or province name, or a list of them")
            if name_key(name) in official:
                raise fail(f"'{name}' is already a municipality or province in {MUNICIPALITY_FILE}")
            if name_key(name) in seen:
                raise fail(f"also in [{seen[name_key(name)]}]")
            seen[name_key(name)] = table
            for target in targets:
                if target not in municipalities and target not in provinces:
                    raise fail(f"'{target}' is neither a municipality nor a province in {MUNICIPALITY_FILE}"
                               f"{_did_you_mean(target, [*municipalities, *provinces])}")
            places.append(Place(
                name,
                municipalities=tuple(t for t in targets if t in municipalities),
                provinces=tuple(t for t in targets if t not in municipalities),
            ))
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
    strategy: dict[str, str] = {}
    for organisation, name in src.table("strategy").items():
        if organisation not in ORGANISATIONS:
            raise src.error(f"strategy: '{organisation}' is not one of {_listed(ORGANISATIONS)}",
                            "strategy", None, organisation)
        if name not in STRATEGIES:
            raise src.error(f"strategy: {organisation} = '{name}' is not one of {_listed(STRATEGIES)}",
                            "strategy", None, organisation)
        strategy[organisation] = name
    askers = set(ORGANISATIONS) | sender_organisations
    rules: list[Rule] = []
    for i, raw in enumerate(src.tables("rule")):
        rule: Rule = src.entry(Rule, raw, "rule", i, f"rule {raw.get('name', i + 1)!r}")

        def fail(key: str, message: str) -> RulesError:
            return src.error(f"rule '{rule.name}': {message}", "rule", i, key)

        if any(r.name == rule.name for r in rules):
            raise fail("name", "another rule has this name")
        for theme in rule.theme:
            if theme not in themes:
                raise fail("theme", f"theme '{theme}' is not in themes.toml{_did_you_mean(theme, themes)}")
        for organisation in rule.organisation:
            if organisation not in ORGANISATIONS:
                raise fail("organisation", f"'{organisation}' is not one of {_listed(ORGANISATIONS)}")
        for organisation in rule.asking_organisation:
            if organisation not in askers:
                raise fail("asking_organisation", f"'{organisation}' is not one of {_listed(sorted(askers))}")
        scope = rule.organisation or ORGANISATIONS
        for key, names in (("region", rule.region), ("assign_region", (rule.assign_region or "",))):
            for name in filter(None, names):
                if not any(r.name == name and r.organisation in scope for r in regions):
                    raise fail(key, f"'{name}' is not a region of {_listed(scope)}")
        if rule.min_confidence is not None and rule.max_confidence is not None \
                and rule.min_confidence > rule.max_confidence:
            raise fail("max_confidence", "max_confidence is below min_confidence")
        if rule.assign and rule.assign_region:
            raise fail("assign_region", "give assign or assign_region, not both")
        if rule.review and rule.assigns:
            raise fail("review", "a rule that sends to review does not also assign")
        if any(not word.strip() for word in rule.words):
            raise fail("words", "empty word")
        rules.append(rule)
    return tuple(rules), strategy


# --- contacts CSV -----------------------------------------------------------------------

def load_contacts(path: Path, ruleset: RuleSet) -> list[Contact]:
    """The contact persons of the CSV file, in file order, checked against the rule set."""
    path = Path(path)
    name = shown(path)
    text = _read_text(path)
    header_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","  # Dutch Excel
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns = _contact_columns(name, next(reader, []))
    contacts: list[Contact] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RulesError(f"{name}:{line}: {exc}") from None
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != len(columns):
            raise RulesError(f"{name}:{line}: {len(row)} columns where the header has {len(columns)}")
        contacts.append(_contact(name, line, dict(zip(columns, row)), ruleset))
    _check_contacts(name, contacts, ruleset)
    return contacts


def _contact_columns(name: str, header: list[str]) -> list[str]:
    columns = [c.strip().lower() for c in header]
    for column in CONTACT_COLUMNS:
        if column not in columns:
            raise RulesError(f"{name}:1: missing column '{column}'")
    for column in columns:
        if column not in CONTACT_COLUMNS + OPTIONAL_CONTACT_COLUMNS:
            raise RulesError(f"{name}:1: unknown column '{column}'")
        if columns.count(column) > 1:
            raise RulesError(f"{name}:1: column '{column}' appears twice")
    return columns


def _contact(name: str, line: int, row: dict[str, str], ruleset: RuleSet) -> Contact:
    def fail(column: str, message: str) -> RulesError:
        return RulesError(f"{name}:{line}: column '{column}': {message}")

    try:
        contact = Contact.model_validate({**row, "line": line})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(str(first["loc"][0]), str(first["msg"]).removeprefix("Value error, ")) from None
    if contact.organisation not in ruleset.organisations:
        raise fail("organisation", f"'{contact.organisation}' is not one of {_listed(ruleset.organisations)}")
    regions = ruleset.regions_of(contact.organisation)
    if contact.region and contact.region not in regions:
        raise fail("region", f"'{contact.region}' is not a region of {contact.organisation} "
                             f"(regions: {_listed(regions)})")
    if not contact.region and not contact.is_coordinator:
        raise fail("region", f"empty; only a {COORDINATOR} may have no region")
    for theme in contact.themes:
        if theme not in ruleset.themes:
            raise fail("themes", f"'{theme}' is not a theme in themes.toml{_did_you_mean(theme, ruleset.themes)}")
    return contact


def _check_contacts(name: str, contacts: list[Contact], ruleset: RuleSet) -> None:
    first_line: dict[str, int] = {}
    for contact in contacts:
        if contact.email in first_line:
            raise RulesError(f"{name}:{contact.line}: column 'email': '{contact.email}' is listed twice "
                             f"(also line {first_line[contact.email]})")
        first_line[contact.email] = contact.line
    for contact in contacts:
        if contact.deputy == contact.email:
            raise RulesError(f"{name}:{contact.line}: column 'deputy': a contact cannot be their own deputy")
        if contact.deputy and contact.deputy not in first_line:
            raise RulesError(f"{name}:{contact.line}: column 'deputy': '{contact.deputy}' is not a contact "
                             "in this file")
    for rule in ruleset.rules:
        if rule.assign and rule.assign != COORDINATOR and rule.assign not in first_line:
            raise RulesError(f"{shown(ruleset.routing_file)}:{ruleset.rule_lines.get(rule.name, 1)}: "
                             f"rule '{rule.name}': assign '{rule.assign}' is not a contact in {name}")


# --- helpers ----------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesError(f"{shown(path)}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{shown(path)}: cannot read: {exc}") from None


def _only(src: TomlFile, *allowed: str) -> None:
    for key in src.data:
        if key not in allowed:
            raise RulesError(f"{src.name}:{src.top_line(key)}: unknown key '{key}' (expected {_listed(allowed)})")


def _listed(names: Iterable[str]) -> str:
    return ", ".join(names)


def _did_you_mean(value: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
