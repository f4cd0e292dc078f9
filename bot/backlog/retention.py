"""Retention: keep what a question says, and who said it, only as long as the task needs it.

`purge` takes, from questions older than `storage.body_retention_days`: the (redacted) text,
the subject, the sender's address and the explanation (model terms); what stays is what the
backlog, the reports and training need as counts: kenmerk, dates, theme, organisation,
region, the routing decision, the sender's domain and keyed hash. It also removes the payload
of every delivery no longer pending, the raw originals kept for review or quarantine once
that period has passed, the details of audit rows of that age that hold free text (the chain
keeps proving row, time, actor and action: see `storage.audit`), and model versions beyond
the newest `privacy.keep_models`. SQLite then rewrites its file (`storage.db.compact`), so
that nothing purged stays readable in free pages. Every purge is written to the audit log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from classifiers import ModelStore
from storage import repo
from storage.db import compact, unit_of_work
from storage.models import AuditEntry, Delivery, Original, Question

# audit detail keys that may hold what a person typed (a reason, a note)
TEXT_DETAILS = frozenset({"reason", "note", "text", "subject", "comment"})


@dataclass(frozen=True)
class PurgeResult:
    bodies: int  # questions whose text, subject, sender and explanation went
    payloads: int
    originals: int
    audit_details: int
    models: tuple[str, ...]  # model versions removed
    before: datetime
    dry_run: bool

    def as_dict(self) -> dict:
        return asdict(self) | {"before": self.before.isoformat(timespec="seconds"), "models": list(self.models)}


def purge(engine: Engine, *, retention_days: int, dry_run: bool, now: datetime | None = None,
          models: Path | None = None, keep_models: int = 3) -> PurgeResult:
    before = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
    old = Question.created_at < before
    held = (old, or_(Question.body.is_not(None), Question.subject != "", Question.sender != "",
                     func.coalesce(func.json_array_length(Question.explanation), 0) > 0))
    spent_payloads = (Delivery.status != "pending", Delivery.payload.is_not(None))
    old_originals = Original.stored_at < before
    with unit_of_work(engine) as session:
        bodies = session.exec(select(func.count()).select_from(Question).where(*held)).one()
        payloads = session.exec(select(func.count()).select_from(Delivery).where(*spent_payloads)).one()
        originals = session.exec(select(func.count()).select_from(Original).where(old_originals)).one()
        texts = [e for e in session.exec(select(AuditEntry).where(AuditEntry.at < before,
                                                                  AuditEntry.detail.is_not(None)))
                 if TEXT_DETAILS & set(e.detail or {})]
        store = ModelStore(models) if models is not None and models.is_dir() else None
        stale = store.prune(keep_models, dry_run=True) if store else []
        if not dry_run:
            session.exec(update(Question).where(*held).values(body=None, subject="", sender="", explanation=[]))
            session.exec(update(Delivery).where(*spent_payloads).values(payload=None))
            session.exec(delete(Original).where(old_originals))
            for entry in texts:  # its detail_hash stays: the chain still proves the row
                entry.detail = None
                session.add(entry)
            repo.audit(session, action="purge", bodies=bodies, payloads=payloads, originals=originals,
                       audit_details=len(texts), models=stale,
                       before=before.isoformat(timespec="seconds"))
    if not dry_run:  # once the purge is committed: the files, then the database's free pages
        if store:
            store.prune(keep_models)
        compact(engine)
    return PurgeResult(bodies, payloads, originals, len(texts), tuple(stale), before, dry_run)

