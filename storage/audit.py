"""The audit log: who did what, in a chain that shows when a row was edited or deleted.

Every row carries the hash of the row before it. Rows get their place in the chain (`seq`)
and their hashes when their transaction commits, under a lock (PostgreSQL: an advisory
transaction lock; SQLite has one writer at a time anyway), so workers writing at the same
moment still make one unbroken chain and the lock is held only for the last instant of a
transaction. A row's `detail` is hashed apart (`detail_hash`): retention may clear a detail
that holds text, and the chain still proves the row, its time, actor and action.

`verify` walks the chain and names the first row that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import event, inspect, text
from sqlmodel import Session, select

from storage.models import AuditEntry

GENESIS = "0" * 64
_LOCK = 727275  # pg_advisory_xact_lock key of the audit chain
_PENDING = "audit_unsealed"


def record(session: Session, *, action: str, question_id: int | None = None, actor: str = "bvhk-triage",
           **detail) -> AuditEntry:
    """Add an audit row; it is sealed into the chain when the transaction commits."""
    entry = AuditEntry(action=action, question_id=question_id, actor=actor, detail=detail)
    session.add(entry)
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def row_hash(entry: AuditEntry) -> str:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)
    fields = [entry.prev_hash, entry.seq, at.astimezone(timezone.utc).isoformat(), entry.actor, entry.action,
              entry.question_id, entry.detail_hash]
    return digest(fields)


_LAST = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    # rows of a rolled-back savepoint have left the session: only the rows still in it are sealed
    pending = [e for e in session.info.pop(_PENDING, []) if e in session and not inspect(e).deleted]
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    elif not _writing(session):  # SQLite: write first, so this transaction holds the one write lock before it reads
        session.flush()
    with session.no_autoflush:  # rows still pending are inserted sealed, not inserted now and updated after
        last = session.exec(_LAST).first()
    seq, previous = (last[0], last[1]) if last else (0, GENESIS)
    for entry in pending:
        seq += 1
        entry.seq, entry.prev_hash, entry.detail_hash = seq, previous, digest(entry.detail)
        entry.hash = previous = row_hash(entry)
        session.add(entry)
    session.flush()


def _writing(session: Session) -> bool:
    """SQLite: has this transaction written already, so that it holds the database's one
    write lock? Python's sqlite3 begins a transaction only before a statement that writes
    (`in_transaction`); then rows still pending are inserted sealed, with no update after."""
    return bool(getattr(session.connection().connection.driver_connection, "in_transaction", False))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    problem: str = ""  # Dutch, naming the first row that does not fit

    def line(self) -> str:
        return f"ok    auditlog: {self.rows} regels, keten onbroken" if self.ok else f"FOUT  auditlog: {self.problem}"


def verify(session: Session) -> Verdict:
    """Walk the chain from the first row: every row in place, unchanged, none missing."""
    previous, expected_seq, rows = GENESIS, 1, 0
    unsealed = session.exec(select(AuditEntry.id).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id)).first()
    if unsealed is not None:
        return Verdict(False, 0, f"regel {unsealed} staat buiten de keten (buiten bvhk-triage om toegevoegd?)")
    for entry in session.exec(select(AuditEntry).order_by(AuditEntry.seq)):
        rows += 1
        where = f"regel {entry.id} (nr. {entry.seq}, {entry.action})"
        if entry.seq != expected_seq:
            return Verdict(False, rows, f"vóór {where} ontbreken {entry.seq - expected_seq} regel(s): "
                                        f"nr. {expected_seq} t/m {entry.seq - 1} zijn verwijderd")
        if entry.prev_hash != previous:
            return Verdict(False, rows, f"{where} verwijst niet naar de regel ervoor")
        if entry.detail is not None and digest(entry.detail) != entry.detail_hash:
            return Verdict(False, rows, f"{where}: details gewijzigd")
        if row_hash(entry) != entry.hash:
            return Verdict(False, rows, f"{where}: gewijzigd (tijd, wie, actie of vraag)")
        previous, expected_seq = entry.hash, expected_seq + 1
    return Verdict(True, rows)
