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


def quarantine_rows(engine: Engine) -> list[dict]:
    """What waits in quarantine, oldest first: kenmerk, mailbox, reason, size and the sender's
    domain. Never the content."""
    with unit_of_work(engine) as session:
        questions = repo.in_quarantine(session)
        return [
            {
                "id": q.id,
                "triage_id": q.triage_id,
                "mailbox": q.mailbox,
                "item": q.source_id,
                "received_at": q.received_at.isoformat() if q.received_at else None,
                "reason": q.verdict_reason,
                "size": q.size,
                "sender_domain": q.sender_domain,
                "original_kept": repo.original(session, question_id=q.id) is not None,
            }
            for q in questions
        ]
