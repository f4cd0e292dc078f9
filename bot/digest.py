"""Coordinators' backlog digests: per coordinator, the open questions of their organisation.

No message bodies; subjects are stored redacted. Each question carries its Kenmerk (the
triage id, also in the X-BvhK-Triage header of the forward) to find it in Outlook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine

import rules
from bot.render import render
from bot.settings import Settings
from storage import repo
from storage.db import unit_of_work


@dataclass(frozen=True)
class Digest:
    coordinator: rules.Contact
    rows: list[dict]
    overdue: int
    today: date

    @property
    def subject(self) -> str:
        return f"Backlog Belang van het Kind {self.coordinator.organisation}: {len(self.rows)} open, {self.overdue} over termijn"

    def html(self) -> str:
        return render("digest.html.j2", digest=self)

    def text(self) -> str:
        return render("digest.txt.j2", digest=self)


def build_digests(settings: Settings, engine: Engine, *, today: date | None = None) -> list[Digest]:
    """One digest per coordinator with open questions in their organisation (or region)."""
    today = today or datetime.now(timezone.utc).date()
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    names = {c.email: c.name for c in contacts}
    now = datetime.now(timezone.utc)
    with unit_of_work(engine) as session:
        questions = repo.open_questions(session)
        digests = []
        for coordinator in (c for c in contacts if c.role == "coordinator" and c.active):
            mine = [
                q for q in questions
                if q.organisation == coordinator.organisation
                and (not coordinator.region or q.region == coordinator.region)
            ]
            rows = [
                {
                    "kenmerk": q.triage_id,
                    "message_id": q.message_id,
                    "subject": q.subject,
                    "theme": ruleset.theme_name(q.theme),
                    "region": q.region or "onbekend",
                    "assignee": names.get(q.assignee, q.assignee) if q.assignee else "ter beoordeling",
                    "age_days": (now - q.received_at).days if q.received_at else 0,
                    "due_on": q.due_on,
                    "overdue": bool(q.due_on and q.due_on < today),
                    "status": q.status,
                }
                for q in mine
            ]
            if rows:
                digests.append(Digest(coordinator, rows, sum(r["overdue"] for r in rows), today))
        return digests


def write_digests(settings: Settings, engine: Engine, out: Path, *, today: date | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for digest in build_digests(settings, engine, today=today):
        stem = out / f"digest-{digest.coordinator.email.split('@')[0]}-{digest.coordinator.organisation.replace('&', '')}"
        for suffix, body in ((".html", digest.html()), (".txt", digest.text())):
            path = stem.with_suffix(suffix)
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written
