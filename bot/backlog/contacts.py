"""The contact-person directory: stored from the contacts file, listed, imported, absences recorded."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

import rules
from bot.settings import ConfigError, Settings
from storage import repo
from storage.db import open_database, open_existing, unit_of_work
from storage.models import ContactPerson


def save_contacts(engine: Engine, contacts: list[rules.Contact], *, reloaded: str = "") -> None:
    """Store the directory. Workers starting (or reloading) at the same moment insert the same
    rows: the later commit fails on the primary key and is tried once more, as an update."""
    for attempt in (1, 2):
        try:
            with unit_of_work(engine) as session:
                repo.replace_contacts(session, contacts=[contact_row(c) for c in contacts])
                if reloaded:
                    repo.audit(session, action="rules:reload", rules=reloaded)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def contact_row(c: rules.Contact) -> ContactPerson:
    return ContactPerson(
        email=c.email, name=c.name, organisation=c.organisation, region=c.region or "",
        location=c.location or "", themes=list(c.themes), capacity=c.capacity, active=c.active,
        role=c.role, deputy=c.deputy or "",
    )


def contact_rows(settings: Settings) -> list[dict]:
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    counts, absent = Counter(), set()
    engine = open_existing(settings.storage.url)
    if engine is not None:
        with unit_of_work(engine) as session:
            counts.update(repo.open_counts(session))
            absent = repo.absent_on(session, day=date.today())
    return [
        {"name": c.name, "email": c.email, "organisation": c.organisation, "region": c.region,
         "location": c.location, "themes": list(c.themes), "capacity": c.capacity, "active": c.active,
         "role": c.role, "deputy": c.deputy, "open_questions": counts.get(c.email, 0),
         "absent_today": c.email in absent}
        for c in contacts
    ]


def import_contacts(settings: Settings, file: Path, *, actor: str = "bvhk-triage") -> str:
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(file, ruleset)
    target = settings.routing.contacts
    if file.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.read_bytes())
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        repo.replace_contacts(session, contacts=[contact_row(c) for c in contacts])
        repo.audit(session, action="contacts:import", actor=actor, count=len(contacts))
    return f"{len(contacts)} contactpersonen geïmporteerd naar {target}"


def record_absence(settings: Settings, email: str, start: date, end: date, *, actor: str = "bvhk-triage") -> str:
    if end < start:
        raise ConfigError(f"--to {end} ligt vóór --from {start}")
    ruleset = rules.load_ruleset(settings.routing.rules)
    known = {c.email.lower() for c in rules.load_contacts(settings.routing.contacts, ruleset)}
    if email.lower() not in known:
        raise ConfigError(f"{settings.routing.contacts}: geen contactpersoon met e-mailadres '{email}'")
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        repo.add_absence(session, email=email.lower(), start=start, end=end)
        repo.audit(session, action="contacts:absent", actor=actor, email=email.lower(), start=str(start), end=str(end))
    return f"{email} afwezig van {start} tot en met {end}"
