"""A generated history of questions in the database, for the digest and report tests and the
report benchmark (bench/report.py): deterministic for a seed.

Questions arrive on working days over the given weeks, for IND, DT&V and RvdK with their
regions (rules/data/regions.toml) and themes (rules/data/themes.toml), asked by chain
partners; about 12% go to review (low confidence), 4% are reassigned, most are answered
after a time that differs per organisation (DT&V slowest), some stay stuck. In the last
week one theme (chavez) and one term (leeftijdsschouw) rise, so the report has signals.

`plant_personal_data` adds questions whose subjects were never redacted and whose bodies
hold a BSN, a V-number, a date of birth and names: what no output may show.
"""

from __future__ import annotations

import functools
import random
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy.engine import Engine

import rules
from storage import repo
from storage.db import unit_of_work
from storage.models import AuditEntry, ContactPerson, Question

if TYPE_CHECKING:
    from bot.settings import Settings

from tests.paths import ROOT

RULES = ROOT / "rules" / "data"
ORGANISATIONS = {"IND": 0.35, "DT&V": 0.25, "RvdK": 0.40}
MAILBOX = {"IND": "ind", "DT&V": "dtv", "RvdK": "rvdk"}
ASKERS = ["IND", "DT&V", "RvdK", "Nidos", "COA", "GI", "gemeente", "advocatuur"]
MEDIAN_DAYS = {"IND": 4.0, "DT&V": 9.0, "RvdK": 3.0}
OPENERS = ["Vraag over", "Verzoek om advies:", "Spoed: vraag over", "Re: vraag over", "Informatie gezocht over"]
RISING_THEME, RISING_TERM = "chavez", "leeftijdsschouw"


@functools.cache
def _ruleset() -> rules.RuleSet:
    return rules.load_ruleset(rules.DEFAULT_FOLDER)


def themes() -> dict[str, list[str]]:
    data = tomllib.loads((RULES / "themes.toml").read_text(encoding="utf-8"))
    return {t["key"]: t["seed_terms"] for t in data["theme"]}


def regions() -> dict[str, list[str]]:
    data = tomllib.loads((RULES / "regions.toml").read_text(encoding="utf-8"))
    result: dict[str, list[str]] = {}
    for region in data["region"]:
        result.setdefault(region["organisation"], []).append(region["name"])
    return result


def directory() -> list[ContactPerson]:
    """Two contact persons per region, and a coordinator per organisation (RvdK Breda has its own)."""
    people = []
    for organisation, names in regions().items():
        domain = MAILBOX[organisation]
        for region in names:
            slug = region.lower().replace(" ", "").replace("-", "")
            for n in (1, 2):
                people.append(ContactPerson(email=f"cp{n}.{slug}@{domain}.example", name=f"Contactpersoon {n} {region}",
                                            organisation=organisation, region=region, capacity=15))
        people.append(ContactPerson(email=f"coordinator@{domain}.example", name=f"Coördinator {organisation}",
                                    organisation=organisation, role="coordinator", capacity=0))
    people.append(ContactPerson(email="coordinator.breda@rvdk.example", name="Coördinator Breda",
                                organisation="RvdK", region="Breda", role="coordinator", capacity=0))
    people.append(ContactPerson(email="oud@ind.example", name="Vertrokken Coördinator",
                                organisation="IND", role="coordinator", active=False, capacity=0))
    return people


@dataclass(frozen=True)
class History:
    start: datetime
    end: datetime
    questions: int


def fill_history(engine: Engine, *, questions: int, weeks: int, end: datetime, seed: int = 7) -> History:
    """`questions` questions received over the `weeks` weeks before `end` (aware datetime)."""
    rng = random.Random(seed)
    theme_terms = themes()
    theme_keys = list(theme_terms)
    region_names = regions()
    people = directory()
    by_region = {}
    for person in people:
        if person.role != "coordinator":
            by_region.setdefault((person.organisation, person.region), []).append(person.email)
    start = end - timedelta(weeks=weeks)
    last_week = end - timedelta(days=7)
    with unit_of_work(engine) as session:
        repo.replace_contacts(session, contacts=people)
        first_id = (session.exec(_max_id()).one() or 0) + 1
    rows, audit = [], []
    for n in range(questions):
        received = _working_moment(rng, start, end)
        recent = received >= last_week
        organisation = rng.choices(list(ORGANISATIONS), weights=list(ORGANISATIONS.values()))[0]
        names = region_names[organisation]
        weights = [4 if name == "Breda" else 1 for name in names]
        region = rng.choices(names, weights=weights)[0]
        theme = rng.choice(theme_keys)
        if recent and rng.random() < 0.12:
            theme = RISING_THEME
        terms = theme_terms[theme]
        term = RISING_TERM if recent and rng.random() < 0.06 else rng.choice(terms)
        subject = f"{rng.choice(OPENERS)} {term}" + (f" en {rng.choice(terms)}" if rng.random() < 0.4 else "")
        confidence = round(rng.uniform(0.1, 0.35), 3) if rng.random() < 0.12 else round(rng.uniform(0.4, 0.99), 3)
        review = confidence < 0.35
        assignee = None if review and rng.random() < 0.5 else rng.choice(by_region[(organisation, region)])
        days = rng.lognormvariate(0, 0.8) * MEDIAN_DAYS[organisation]
        answered = received + timedelta(days=days)
        status, answered_at, closed_at = "answered", answered, None
        if answered > end or rng.random() < 0.03:  # not answered (yet), or stuck
            status, answered_at = ("review" if review else "routed"), None
            if not review and rng.random() < 0.15:
                status = "reassigned"
        elif rng.random() < 0.02:
            status, answered_at, closed_at = "closed", None, answered
        qid = first_id + n
        rows.append(_row(
            id=qid, triage_id=f"BVHK-{seed}-{qid:06d}", mailbox=MAILBOX[organisation], source_id=f"s{seed}-{qid}",
            message_id=f"<q{qid}.{seed}@example>", received_at=received, created_at=received, subject=subject,
            signal_terms=_ruleset().signal_terms(subject), sender_domain="example.org", asking_organisation=rng.choice([a for a in ASKERS if a != organisation]),
            theme=theme, theme_confidence=confidence, organisation=organisation, organisation_confidence=0.9,
            region=region, region_confidence=0.8, assignee=assignee, rule="generated",
            status=status, due_on=(received + timedelta(days=14)).date(),
            routed_at=received + timedelta(minutes=5), answered_at=answered_at, closed_at=closed_at,
        ))
        if review:
            audit.append(dict(at=received + timedelta(minutes=5), actor="bvhk-triage", action="triage:review",
                              question_id=qid, detail={}))
        if status == "reassigned" or (status == "answered" and rng.random() < 0.03):
            audit.append(dict(at=min(received + timedelta(days=1), end), actor="coordinator",
                              action="question:reassign", question_id=qid, detail={}))
    with unit_of_work(engine) as session:
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(Question), rows[chunk:chunk + 5000])
        if audit:
            session.execute(insert(AuditEntry), audit)
    return History(start, end, questions)


_DEFAULTS: dict = {}


def _row(**fields) -> dict:
    """A question as a row to insert: the model's defaults, then `fields` (fast for many rows)."""
    if not _DEFAULTS:
        _DEFAULTS.update(Question(triage_id="", mailbox="", source_id="", message_id="").model_dump())
    return {**_DEFAULTS, **fields}


def _max_id():
    from sqlalchemy import func
    from sqlmodel import select

    return select(func.max(Question.id))


def _working_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment between start and end on a working day, mostly in office hours."""
    while True:
        moment = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        if moment.weekday() < 5 and 6 <= moment.hour < 17:
            return moment


# --- personal data that must never show -------------------------------------------------------
BSN = "111222333"  # passes the eleven-test
BSN_SPACED = "123 456 782"
V_NUMBER = "2345678901"
BIRTH_DATE = "03-04-2015"
NAMES = ("Yilmaz", "Ahmed", "Samira", "Amrani", "Kowalczyk", "Wiśniewska")
PLANTED = (BSN, BSN_SPACED, BSN_SPACED.replace(" ", ""), V_NUMBER, BIRTH_DATE, *NAMES)
SUBJECTS = (
    f"Vraag over Ahmed Yilmaz, BSN {BSN}",
    f"OTS voor Samira El Amrani (V-nr {V_NUMBER}), geboren {BIRTH_DATE}",
    "Spoed: mevrouw Kowalczyk en dochter Wiśniewska, overdracht",
    f"Re: bsn {BSN_SPACED} <script>alert('x')</script>",
)
BODY = (f"Beste collega,\n\nHet gaat om Ahmed Yilmaz (BSN {BSN}, V-nummer {V_NUMBER}), geboren op "
        f"{BIRTH_DATE}, en zijn zus Samira El Amrani. Moeder is mevrouw Kowalczyk.\n\n"
        "Met vriendelijke groet,\nJan Wiśniewska")


def plant_personal_data(engine: Engine, *, received: datetime, organisation: str = "RvdK",
                        region: str = "Breda", copies: int = 4) -> None:
    """Open questions with unredacted subjects and bodies, straight into the database."""
    with unit_of_work(engine) as session:
        first_id = (session.exec(_max_id()).one() or 0) + 1
        people = [p.email for p in repo.contacts(session)
                  if p.organisation == organisation and p.region == region and p.role != "coordinator"]
    rows = []
    for n in range(copies * len(SUBJECTS)):
        qid = first_id + n
        rows.append(_row(
            id=qid, triage_id=f"BVHK-PLANT-{qid:06d}", mailbox=MAILBOX[organisation], source_id=f"plant-{qid}",
            message_id=f"<plant{qid}@example>", received_at=received + timedelta(minutes=n), created_at=received,
            subject=SUBJECTS[n % len(SUBJECTS)], body=BODY, asking_organisation="Nidos", theme="chavez",
            theme_confidence=0.9, organisation=organisation, region=region, assignee=people[0] if people else None,
            status="routed", due_on=(received + timedelta(days=14)).date(), routed_at=received + timedelta(minutes=n),
            explanation=["ahmed", "yilmaz", "chavez"],
        ))
    with unit_of_work(engine) as session:
        session.execute(insert(Question), rows)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- a database and configuration to test against ---------------------------------------------
TODAY = date(2025, 4, 9)  # a Wednesday: the last complete week is 2025-W14
END = datetime(2025, 4, 9, 6, 30, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Filled:
    config: Path
    settings: Settings
    engine: Engine
    today: date = TODAY


def filled_database(folder: Path, *, questions: int = 3000, weeks: int = 10, plant: bool = True,
                    recipients: tuple[str, ...] = ("skiv-secretariaat@example.org",)) -> Filled:
    """A config.toml in `folder` (SQLite, local outbox, SKIV recipients) and a database filled
    with a generated history ending on the morning of TODAY, plus planted personal data."""
    from bot.settings import load_settings
    from storage.db import open_database

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///history.sqlite3"\n\n'
        '[delivery]\nkind = "outbox"\nfrom = "bvhk-triage@bvhk.example"\npath = "outbox"\n\n'
        f"[reports]\nskiv_recipients = {list(recipients)!r}\n".replace("'", '"'),
        encoding="utf-8",
    )
    settings = load_settings(config)
    engine = open_database(settings.storage.url)
    fill_history(engine, questions=questions, weeks=weeks, end=END)
    if plant:
        plant_personal_data(engine, received=END - timedelta(days=6))
    return Filled(config, settings, engine)
