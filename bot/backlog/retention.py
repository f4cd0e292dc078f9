"""Retention: keep the question text only as long as training needs it.

`purge` removes the (already redacted) question text of questions older than
`storage.body_retention_days`, and any payload of a delivery that is no longer pending;
metadata, labels and decisions stay. Every purge is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from storage import repo
from storage.db import unit_of_work
from storage.models import Delivery, Question


@dataclass(frozen=True)
class PurgeResult:
    bodies: int
    payloads: int
    before: datetime
    dry_run: bool

    def as_dict(self) -> dict:
        return {"bodies": self.bodies, "payloads": self.payloads,
                "before": self.before.isoformat(timespec="seconds"), "dry_run": self.dry_run}


def purge(engine: Engine, *, retention_days: int, dry_run: bool, now: datetime | None = None) -> PurgeResult:
    before = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
    old_bodies = (Question.created_at < before, Question.body.is_not(None))
    spent_payloads = (Delivery.status != "pending", Delivery.payload.is_not(None))
    with unit_of_work(engine) as session:
        bodies = session.exec(select(func.count()).select_from(Question).where(*old_bodies)).one()
        payloads = session.exec(select(func.count()).select_from(Delivery).where(*spent_payloads)).one()
        if not dry_run:
            session.exec(update(Question).where(*old_bodies).values(body=None))
            session.exec(update(Delivery).where(*spent_payloads).values(payload=None))
            repo.audit(session, action="purge", bodies=bodies, payloads=payloads,
                       before=before.isoformat(timespec="seconds"))
    return PurgeResult(bodies, payloads, before, dry_run)
