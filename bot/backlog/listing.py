"""The backlog: every routed question stays open until answered."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy.engine import Engine

from storage import repo
from storage.db import unit_of_work


def backlog_rows(engine: Engine, *, overdue: bool, today: date) -> list[dict]:
    """Open questions, oldest first: id, theme, organisation, region, assignee, age, due date."""
    now = datetime.now(timezone.utc)
    with unit_of_work(engine) as session:
        questions = repo.open_questions(session, overdue_on=today if overdue else None)
        return [
            {
                "id": q.id,
                "triage_id": q.triage_id,
                "mailbox": q.mailbox,
                "status": q.status,
                "theme": q.theme,
                "organisation": q.organisation,
                "region": q.region,
                "assignee": q.assignee,
                "received_at": q.received_at.isoformat() if q.received_at else None,
                "age_days": max(0, (now - q.received_at).days) if q.received_at else None,
                "due_on": q.due_on.isoformat() if q.due_on else None,
                "overdue": bool(q.due_on and q.due_on < today),
            }
            for q in questions
        ]
