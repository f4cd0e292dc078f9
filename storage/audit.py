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
from datetime import datetime, timezone

from sqlalchemy import event, insert, text
from sqlmodel import Session, select

from storage.db import begin_writing
from storage.models import AuditEntry, utcnow

GENESIS = "0" * 64
_LOCK = 727275  # pg_advisory_xact_lock key of the audit chain
_PENDING = "audit_unsealed"


@dataclass(slots=True)
class _Row:
    """An audit row waiting for its transaction's commit (inserted then, sealed, in one statement)."""

    at: datetime
    actor: str
    action: str
    question_id: int | None
    detail: dict
    seq: int = 0
    prev_hash: str = ""
    detail_hash: str = ""
    hash: str = ""


def record(session: Session, *, action: str, question_id: int | None = None, actor: str = "bvhk-triage",
           at: datetime | None = None, **detail) -> None:
    """Add an audit row; it is inserted, sealed into the chain, when the transaction commits
    (a savepoint's rows are dropped when the savepoint is rolled back). `at`: now."""
    row = _Row(at or utcnow(), actor, action, question_id, detail)
    session.info.setdefault(_PENDING, []).append((row, session.get_nested_transaction()))


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def row_hash(entry: AuditEntry | _Row) -> str:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)
    fields = [entry.prev_hash, entry.seq, at.astimezone(timezone.utc).isoformat(), entry.actor, entry.action,
              entry.question_id, entry.detail_hash]
    return digest(fields)


_INSERT = insert(AuditEntry.__table__)
_LAST = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    """At the transaction's commit (not a savepoint's): write everything else first, then
    take the chain's lock and insert the rows sealed, so that the lock covers only the read
    of the chain's end, these inserts and the commit."""
    if session.in_nested_transaction():
        return
    pending = [row for row, _ in session.info.pop(_PENDING, [])]
    if not pending:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    else:  # SQLite: hold the one write lock before reading the chain's end
        begin_writing(session)
    connection = session.connection()  # past the ORM's query handling: these are plain rows
    last = connection.execute(_LAST).first()
    seq, previous = (last[0], last[1]) if last else (0, GENESIS)
    for row in pending:
        seq += 1
        row.seq, row.prev_hash, row.detail_hash = seq, previous, digest(row.detail)
        row.hash = previous = row_hash(row)
    connection.execute(_INSERT, [{name: getattr(row, name) for name in _Row.__slots__} for row in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction) -> None:
    """A rolled-back savepoint takes the rows recorded in it (or in savepoints within it) along."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(row, where) for row, where in pending if not _within(where, transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the transaction ended without a commit (a commit sealed them)
        session.info.pop(_PENDING, None)


def _within(where, transaction) -> bool:
    """Was a row recorded in `where` (a savepoint, or None: the transaction itself) recorded
    within `transaction`: the transaction itself, or that savepoint or one inside it?"""
    if not transaction.nested:
        return True
    while where is not None:
        if where is transaction:
            return True
        where = where.parent
    return False


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
