"""Coordinators' backlog digests: per coordinator, the open questions of their organisation
(and region, when theirs is set), overdue ones first, each part oldest first.

Coordinators are the active contact persons with role "coordinator" in the directory as
last imported (the contact_person table). A digest carries no free text of a mail, not even
its subject: a question shows as its kenmerk, theme, asking organisation, region, contact
person, age and due date, which is what a coordinator acts on without personal data. The
kenmerk (the triage id) stands in the subject and body of the forwarded question, so
Outlook's search finds the mail. Mail in quarantine is counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.render import render
from bot.reports.weekly import LOCAL, load_theme_names
from bot.settings import Settings
from storage import repo
from storage.db import unit_of_work
from storage.models import ContactPerson, Question

STATUS_NAMES = {"routed": "doorgestuurd", "review": "ter beoordeling", "reassigned": "herverdeeld"}


@dataclass(frozen=True)
class DigestRow:
    kenmerk: str
    theme: str
    asking: str  # the asking organisation
    region: str
    assignee: str
    status: str
    received_on: date | None
    age_days: int
    due_on: date | None
    overdue_days: int  # 0 when not overdue


@dataclass(frozen=True)
class Digest:
    coordinator: ContactPerson
    overdue_rows: tuple[DigestRow, ...]
    open_rows: tuple[DigestRow, ...]  # open and not overdue
    today: date
    quarantined: int = 0  # mail of the organisation's mailboxes waiting in quarantine
    console: str = ""  # the web console's address ([web] public_url): each kenmerk links to its page

    @property
    def rows(self) -> tuple[DigestRow, ...]:
        return self.overdue_rows + self.open_rows

    @property
    def overdue(self) -> int:
        return len(self.overdue_rows)

    @property
    def is_empty(self) -> bool:
        return not self.rows and not self.quarantined

    @property
    def scope(self) -> str:
        c = self.coordinator
        return f"{c.organisation}, regio {c.region}" if c.region else c.organisation

    @property
    def period(self) -> str:
        return f"digest-{self.today.isoformat()}"

    @property
    def subject(self) -> str:
        return (f"Backlog Belang van het Kind {self.scope}: {len(self.rows)} open, "
                f"{self.overdue} over de termijn")

    def html(self) -> str:
        return render("digest.html.j2", digest=self)

    def text(self) -> str:
        return render("digest.txt.j2", digest=self)


def coordinators(engine: Engine) -> list[ContactPerson]:
    with unit_of_work(engine) as session:
        return [c for c in repo.contacts(session) if c.role == "coordinator" and c.active]


def build_digests(settings: Settings, engine: Engine, *, today: date | None = None,
                  include_empty: bool | None = None) -> list[Digest]:
    """One digest per active coordinator; without open questions only when `include_empty`
    (default: the setting reports.send_digest_when_empty)."""
    today = today or datetime.now(LOCAL).date()
    if include_empty is None:
        include_empty = settings.reports.send_digest_when_empty
    themes = load_theme_names(settings.routing.rules)
    mailbox_organisation = settings.mailbox_organisations
    with unit_of_work(engine) as session:
        questions = list(repo.open_questions(session))
        held = Counter(mailbox_organisation.get(q.mailbox) for q in repo.in_quarantine(session))
        people = {c.email.lower(): c.name for c in repo.contacts(session)}
    digests = []
    for coordinator in coordinators(engine):
        mine = [
            q for q in questions
            if (q.organisation or mailbox_organisation.get(q.mailbox)) == coordinator.organisation
            and (not coordinator.region or q.region == coordinator.region)
        ]
        rows = [digest_row(q, today=today, themes=themes, people=people) for q in mine]
        rows.sort(key=lambda r: (r.received_on or today, r.kenmerk))
        digest = Digest(coordinator, tuple(r for r in rows if r.overdue_days),
                        tuple(r for r in rows if not r.overdue_days), today,
                        quarantined=0 if coordinator.region else held.get(coordinator.organisation, 0),
                        console=settings.web.link(""))
        if include_empty or not digest.is_empty:
            digests.append(digest)
    return digests


def digest_row(q: Question, *, today: date, themes: dict[str, str], people: dict[str, str]) -> DigestRow:
    received_on = q.received_at.astimezone(LOCAL).date() if q.received_at else None
    return DigestRow(
        kenmerk=q.triage_id,
        theme=themes.get(q.theme, q.theme) if q.theme else "geen thema",
        asking=q.asking_organisation or "onbekend",
        region=q.region or "onbekend",
        assignee=people.get(q.assignee.lower(), q.assignee) if q.assignee else "nog niemand",
        status=STATUS_NAMES.get(q.status, q.status),
        received_on=received_on,
        age_days=(today - received_on).days if received_on else 0,
        due_on=q.due_on,
        overdue_days=(today - q.due_on).days if q.due_on and q.due_on < today else 0,
    )


# --- files ----------------------------------------------------------------------------------
def digest_stem(digest: Digest) -> str:
    c = digest.coordinator
    parts = [c.organisation, c.region, c.email.split("@")[0]]
    return "digest-" + "-".join(re.sub(r"[^A-Za-z0-9]+", "", p) for p in parts if p)


def write_digests(settings: Settings, engine: Engine, out: Path, *, today: date | None = None) -> list[Path]:
    """Each coordinator's digest as HTML and plain text in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for digest in build_digests(settings, engine, today=today):
        stem = out / digest_stem(digest)
        for suffix, body in ((".html", digest.html()), (".txt", digest.text())):
            path = stem.with_suffix(suffix)
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written
