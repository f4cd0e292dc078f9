"""Loading the contact persons' CSV file, checked against the rule set.

Columns: name, email, organisation, region, location, themes, capacity, active, and
optionally role (contactpersoon | coordinator) and deputy (another contact's e-mail).
`themes` is separated by ";" (empty: every theme); `active` is ja/nee/true/false/1/0; an
empty capacity means no limit. A file saved by Dutch Excel (";" between columns) works
too. Rows that are empty or start with "#" are skipped. Errors name file, line and column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from rules.files import did_you_mean, listed, read_text, shown
from rules.model import COORDINATOR, Contact, RulesError
from rules.ruleset import RuleSet

CONTACT_COLUMNS = ("name", "email", "organisation", "region", "location", "themes", "capacity", "active")
OPTIONAL_CONTACT_COLUMNS = ("role", "deputy")


def load_contacts(path: Path, ruleset: RuleSet) -> list[Contact]:
    """The contact persons of the CSV file, in file order, checked against the rule set."""
    path = Path(path)
    name = shown(path)
    text = read_text(path)
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
        contacts.append(_contact(name, line, dict(zip(columns, row, strict=True)), ruleset))
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
        raise fail("organisation", f"'{contact.organisation}' is not one of {listed(ruleset.organisations)}")
    regions = ruleset.regions_of(contact.organisation)
    if contact.region and contact.region not in regions:
        raise fail("region", f"'{contact.region}' is not a region of {contact.organisation} "
                             f"(regions: {listed(regions)})")
    if not contact.region and not contact.is_coordinator:
        raise fail("region", f"empty; only a {COORDINATOR} may have no region")
    for theme in contact.themes:
        if theme not in ruleset.themes:
            raise fail("themes", f"'{theme}' is not a theme in themes.toml{did_you_mean(theme, ruleset.themes)}")
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
