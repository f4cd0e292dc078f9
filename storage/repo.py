"""Data access: plain functions, keyword-only arguments, the session passed in.

The caller owns the unit of work (`storage.db.unit_of_work`); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from storage import audit as audit_log
from storage.models import (
    Absence,
    ContactPerson,
    Correction,
    Delivery,
    Heartbeat,
    InboxItem,
    JobRun,
    Lease,
    Original,
    Quarantine,
    Question,
    SyncCursor,
    utcnow,
)

OPEN_STATES = ("routed", "review", "reassigned")


def _run(session: Session, statement, params: dict, *, flush: bool = True):
    """One of the statements built once below (those run for every mail or delivery), on the
    session's connection. Their rows are plain columns, and need nothing of the ORM's handling
    of a query, which `session.exec` adds: about 30 µs a query, three times the rest of its
    way through SQLAlchemy and SQLite. What the session holds unwritten is written first, as
    `session.exec` would, unless `flush` is False."""
    if flush:
        session.flush()
    return session.connection().execute(statement, params)


def insert_new(session: Session, row: SQLModel) -> None:
    """Insert a new row made once and not changed after (a triaged question, a delivery) with
    one statement on the session's connection, and set its id. The session's unit of work
    (`session.add`, then a flush) tracks a row for later changes, and costs about a fifth of
    a millisecond a row more; the row stays outside the session."""
    table = type(row).__table__
    values = {column.name: getattr(row, column.name) for column in table.columns}
    if values.get("id") is None:
        values.pop("id", None)
    row.id = session.connection().execute(_insert_into(table), values).scalar_one()


@lru_cache(maxsize=None)  # built once per table: building one costs nearly half of running it
def _insert_into(table):
    return insert(table).returning(table.c.id)


# --- sync cursors ------------------------------------------------------------------------
def get_cursor(session: Session, *, mailbox: str, folder: str = "inbox") -> str:
    row = session.get(SyncCursor, (mailbox, folder))
    return row.value if row else ""


def set_cursor(session: Session, *, mailbox: str, folder: str = "inbox", value: str) -> None:
    row = session.get(SyncCursor, (mailbox, folder)) or SyncCursor(mailbox=mailbox, folder=folder)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)


# --- the inbox: fetched, waiting for triage ----------------------------------------------
def queue_fetched(session: Session, *, mailbox: str, items: Iterable[tuple[str, bytes]]) -> int:
    """Queue the fetched items (source id, raw) that were neither handled nor queued before;
    how many were queued. Three queries for the lot, whatever its size.

    The queue is asked first: an item triaged meanwhile leaves the queue in the transaction
    that stores its outcome, which the later queries (each sees what was committed before it
    began) then find. Asked the other way round, an item triaged between the two would be
    in neither, and queued again."""
    items = list(items)
    ids = [source_id for source_id, _ in items]
    known = set(session.exec(select(InboxItem.source_id).where(InboxItem.mailbox == mailbox,
                                                               InboxItem.source_id.in_(ids))))
    known |= set(session.exec(select(Question.source_id).where(Question.mailbox == mailbox,
                                                               Question.source_id.in_(ids))))
    known |= set(session.exec(select(Quarantine.source_id).where(Quarantine.mailbox == mailbox, Quarantine.final,
                                                                 Quarantine.source_id.in_(ids))))
    rows = []
    for source_id, raw in items:
        if source_id not in known:
            known.add(source_id)
            rows.append({"mailbox": mailbox, "source_id": source_id, "raw": raw, "queued_at": utcnow(),
                         "claimed_by": "", "claimed_until": None})
    if rows:  # one statement for the lot (nothing needs their ids back)
        session.execute(insert(InboxItem), rows)
    return len(rows)


def claim_queued(session: Session, *, holder: str, mailboxes: Sequence[str], limit: int, seconds: float,
                 dead: Sequence[str] = (), passed: Iterable[int] = ()) -> Sequence[Row]:
    """The oldest queued items of `mailboxes` that nobody triages (unclaimed, claimed by
    `holder` or by one of `dead`, or a lapsed claim), except those with ids in `passed`,
    claimed for `seconds`: their id, mailbox, source_id and raw.
    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers claiming at once take different items."""
    now = utcnow()
    claimable = or_(InboxItem.claimed_by == "", InboxItem.claimed_by == holder, InboxItem.claimed_until < now,
                    InboxItem.claimed_by.in_(list(dead)))
    connection = session.connection()
    items = connection.execute(
        select(InboxItem.id, InboxItem.mailbox, InboxItem.source_id, InboxItem.raw)
        .where(InboxItem.mailbox.in_(list(mailboxes)), InboxItem.id.not_in(list(passed)), claimable)
        .order_by(InboxItem.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if items:
        connection.execute(update(InboxItem).where(InboxItem.id.in_([item.id for item in items]))
                           .values(claimed_by=holder, claimed_until=now + timedelta(seconds=seconds)))
    return items


def unqueue(session: Session, *, item_id: int, holder: str) -> bool:
    """Delete a triaged item; False when `holder`'s claim on it lapsed and another worker took it.
    What the session holds unwritten stays so until the commit: the delete needs none of it."""
    return bool(_run(session, _UNQUEUE, {"item_id": item_id, "holder": holder}, flush=False).rowcount)


_UNQUEUE = delete(InboxItem).where(InboxItem.id == bindparam("item_id"), InboxItem.claimed_by == bindparam("holder"))


def unclaim(session: Session, *, holder: str, item_id: int | None = None) -> None:
    """Give an item `holder` claimed back to the queue (its triage failed: it is tried again),
    or all it claimed (its pass over the queue ended)."""
    query = update(InboxItem).where(InboxItem.claimed_by == holder)
    if item_id is not None:
        query = query.where(InboxItem.id == item_id)
    session.exec(query.values(claimed_by="", claimed_until=None))


def queued(session: Session) -> tuple[int, datetime | None]:
    """How many fetched mails wait for triage, and since when the oldest."""
    count, oldest = session.exec(select(func.count(), func.min(InboxItem.queued_at))).one()
    return count, _aware(oldest) if oldest else None


# --- questions ---------------------------------------------------------------------------
def is_known(session: Session, *, mailbox: str, source_id: str) -> bool:
    """Whether this mailbox item was handled before (as a question, a skip or in quarantine)."""
    if session.exec(
        select(Question.id).where(Question.mailbox == mailbox, Question.source_id == source_id)
    ).first() is not None:
        return True
    return session.exec(
        select(Quarantine.id).where(
            Quarantine.mailbox == mailbox, Quarantine.source_id == source_id, Quarantine.final
        )
    ).first() is not None


# Lookups made for every mail are built once, with parameters: building a statement costs
# more than SQLite takes to answer it.
_SEEN = select(Question.id).where(Question.message_id == bindparam("message_id"),
                                  Question.id != bindparam("other"))  # other: -1 when none is left out
_QUESTION_WITH_ID = (select(Question.id, Question.thread_of)
                     .where(Question.message_id == bindparam("message_id"),
                            or_(Question.status != "skipped", Question.thread_of.is_not(None))).limit(1))
_FORWARDED_WITH_ID = (select(Question.id, Question.thread_of).join(Delivery, Delivery.question_id == Question.id)
                      .where(Delivery.message_id == bindparam("message_id")).limit(1))
_WITH_KENMERK = select(Question.id, Question.thread_of).where(Question.triage_id == bindparam("triage_id")).limit(1)
_MESSAGE_ID = select(Question.message_id, Question.verdict).where(Question.id == bindparam("id"))


def message_id_seen(session: Session, *, message_id: str, except_id: int | None = None) -> bool:
    return _run(session, _SEEN, {"message_id": message_id, "other": -1 if except_id is None else except_id}
                ).first() is not None


def question_by_message_id(session: Session, *, message_id: str) -> Question | None:
    return session.exec(select(Question).where(Question.message_id == message_id)).first()


def question_by_ref(session: Session, *, ref: str) -> Question | None:
    """A question by its kenmerk (triage id), else by its number; a kenmerk may be all digits."""
    ref = ref.strip()
    found = session.exec(select(Question).where(Question.triage_id == ref)).first()
    if found is None and ref.isdigit():
        found = session.get(Question, int(ref))
    return found


def open_questions(session: Session, *, overdue_on: date | None = None) -> Sequence[Question]:
    query = select(Question).where(Question.status.in_(OPEN_STATES))
    if overdue_on is not None:
        query = query.where(Question.due_on < overdue_on)
    return session.exec(query.order_by(Question.received_at, Question.id)).all()


def open_counts(session: Session) -> dict[str, int]:
    """Open questions per contact person (the load that capacity is checked against)."""
    rows = session.exec(
        select(Question.assignee, func.count())
        .where(Question.status.in_(OPEN_STATES), Question.assignee.is_not(None))
        .group_by(Question.assignee)
    ).all()
    return {assignee: count for assignee, count in rows}


def last_assigned(session: Session) -> dict[str, datetime]:
    rows = session.exec(
        select(Question.assignee, func.max(Question.routed_at))
        .where(Question.assignee.is_not(None))
        .group_by(Question.assignee)
    ).all()
    return {assignee: when for assignee, when in rows}


# --- quarantine --------------------------------------------------------------------------
def quarantine(
    session: Session, *, mailbox: str, source_id: str, fingerprint: str, reason: str, final_after: int = 1
) -> Quarantine:
    """Record a failure; the entry becomes final (the item is given up) after `final_after` tries."""
    entry = session.exec(
        select(Quarantine).where(Quarantine.mailbox == mailbox, Quarantine.source_id == source_id)
    ).first()
    if entry:
        entry.attempts += 1
        entry.reason = reason
    else:
        entry = Quarantine(mailbox=mailbox, source_id=source_id, fingerprint=fingerprint, reason=reason)
    entry.final = entry.attempts >= final_after
    session.add(entry)
    return entry


def in_quarantine(session: Session) -> Sequence[Question]:
    return session.exec(select(Question).where(Question.status == "quarantine")
                        .order_by(Question.received_at, Question.id)).all()


def quarantined(session: Session) -> Sequence[Quarantine]:
    return session.exec(select(Quarantine).where(Quarantine.final).order_by(Quarantine.id)).all()


# --- deliveries --------------------------------------------------------------------------
def pending_deliveries(session: Session, *, limit: int = 500) -> Sequence[Delivery]:
    return session.exec(
        select(Delivery).where(Delivery.status == "pending").order_by(Delivery.id).limit(limit)
    ).all()


def delivery_exists(session: Session, *, question_id: int, recipient: str, purpose: str) -> bool:
    return session.exec(
        select(Delivery.id).where(Delivery.question_id == question_id, Delivery.recipient == recipient,
                                  Delivery.purpose == purpose)
    ).first() is not None


def delivery_by_message_id(session: Session, *, message_id: str) -> Delivery | None:
    return session.exec(select(Delivery).where(Delivery.message_id == message_id)).first()


# --- contact persons ---------------------------------------------------------------------
def replace_contacts(session: Session, *, contacts: Iterable[ContactPerson]) -> int:
    """Make the directory what the CSV says; absences are kept."""
    wanted = {c.email: c for c in contacts}
    for row in session.exec(select(ContactPerson)).all():
        if row.email not in wanted:
            session.delete(row)
    for contact in wanted.values():
        session.merge(contact)
    return len(wanted)


def contacts(session: Session) -> Sequence[ContactPerson]:
    return session.exec(select(ContactPerson).order_by(ContactPerson.organisation, ContactPerson.email)).all()


def absent_on(session: Session, *, day: date) -> set[str]:
    rows = session.exec(select(Absence.email).where(Absence.start <= day, Absence.end >= day)).all()
    return set(rows)


def add_absence(session: Session, *, email: str, start: date, end: date) -> None:
    session.add(Absence(email=email, start=start, end=end))


# --- corrections and audit ---------------------------------------------------------------
def add_correction(session: Session, *, correction: Correction) -> None:
    session.add(correction)


def corrections(session: Session) -> Sequence[tuple[Correction, Question]]:
    return session.exec(
        select(Correction, Question).where(Correction.question_id == Question.id).order_by(Correction.id)
    ).all()


def audit(session: Session, *, action: str, question_id: int | None = None, actor: str = "bvhk-triage", **detail) -> None:
    """One row of the audit log (`storage.audit`: chained when the transaction commits)."""
    audit_log.record(session, action=action, question_id=question_id, actor=actor, **detail)


# --- replies and marks -------------------------------------------------------------------
def question_for_item(session: Session, *, mailbox: str, source_id: str) -> Question | None:
    """The question (or skip) stored for one mailbox item."""
    return session.exec(
        select(Question).where(Question.mailbox == mailbox, Question.source_id == source_id)
    ).first()


def question_replied_to(session: Session, *, message_id: str) -> Question | None:
    """The question a Message-ID in In-Reply-To/References stands for: the question's own
    Message-ID, that of one of our forwards of it (a contact person answering the forward), or
    that of a mail in its thread (an answer or follow-up joined to it)."""
    found = _id_replied_to(session, message_id)
    return session.get(Question, found) if found is not None else None


def message_id_replied_to(session: Session, *, message_id: str) -> str:
    """The Message-ID of `question_replied_to`, or "" (without loading the question)."""
    message_id, _ = _message_id_of(session, _id_replied_to(session, message_id))
    return message_id


def message_id_with_kenmerk(session: Session, *, triage_id: str) -> str:
    """The Message-ID of the question with this kenmerk (its thread's), or "" when there is
    none or it is no question (without loading the question)."""
    message_id, verdict = _message_id_of(
        session, _thread_head(_run(session, _WITH_KENMERK, {"triage_id": triage_id}).first()))
    return message_id if verdict == "question" else ""


def _id_replied_to(session: Session, message_id: str) -> int | None:
    return _thread_head(_run(session, _QUESTION_WITH_ID, {"message_id": message_id}).first()
                        or _run(session, _FORWARDED_WITH_ID, {"message_id": message_id}).first())


def _thread_head(found) -> int | None:
    """The id of the question a found (id, thread_of) row stands for: the one it joined, if any."""
    return (found.thread_of if found.thread_of is not None else found.id) if found else None


def _message_id_of(session: Session, question_id: int | None) -> tuple[str, str]:
    """(Message-ID, verdict) of a question, or ("", "") when there is none."""
    row = _run(session, _MESSAGE_ID, {"id": question_id}).first() if question_id is not None else None
    return (row.message_id, row.verdict) if row else ("", "")


def keep_original(session: Session, *, question_id: int, raw: bytes) -> None:
    session.merge(Original(question_id=question_id, raw=raw))


def original(session: Session, *, question_id: int) -> bytes | None:
    kept = session.get(Original, question_id)
    return kept.raw if kept is not None else None


def drop_original(session: Session, *, question_id: int) -> None:
    kept = session.get(Original, question_id)
    if kept is not None:
        session.delete(kept)


def is_contact_person(session: Session, *, email: str) -> bool:
    return session.get(ContactPerson, email.lower()) is not None or session.exec(
        select(ContactPerson.email).where(func.lower(ContactPerson.email) == email.lower())
    ).first() is not None


def record_answer(session: Session, *, question: Question, at: datetime, via: str) -> bool:
    """Keep the time of the first answer; an open question becomes `answered`.
    True when the question had no answer before."""
    first = question.answered_at is None
    changed = question.status in OPEN_STATES
    if first or _aware(at) < _aware(question.answered_at):
        question.answered_at = at
        changed = True
    if question.status in OPEN_STATES:
        question.status = "answered"
    if changed:
        session.add(question)
        audit(session, action="answered", question_id=question.id, via=via)
    return first


def _aware(when: datetime) -> datetime:
    from datetime import timezone

    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# --- leases and heartbeat ----------------------------------------------------------------
def acquire_lease(session: Session, *, name: str, holder: str, seconds: float, now: datetime | None = None,
                  host: str = "", pid: int = 0, dead: Sequence[str] = ()) -> bool:
    """Take the lease `name` for `holder` when it is free, expired, already theirs, or held by
    one of `dead` (holders known to have stopped). `host` and `pid` are recorded with it.

    One conditional UPDATE: on PostgreSQL a second worker racing for the same row waits
    for the first's commit and then finds the lease taken. A missing row is inserted; an
    insert race ends in an IntegrityError, rolled back to a savepoint: not taken."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    takeable = or_(Lease.holder == holder, Lease.expires_at < now, Lease.holder.in_(list(dead)))
    taken = session.exec(
        update(Lease).where(Lease.name == name, takeable)
        .values(holder=holder, expires_at=until, acquired_at=now, host=host, pid=pid)
    ).rowcount
    if taken:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=until, acquired_at=now, host=host, pid=pid))
    except IntegrityError:
        return False
    return True


def lease(session: Session, *, name: str) -> Lease | None:
    return session.get(Lease, name)


def renew_lease(session: Session, *, name: str, holder: str, seconds: float) -> bool:
    """Extend a lease `holder` still has; False when another worker has taken it since."""
    until = utcnow() + timedelta(seconds=seconds)
    return bool(session.exec(
        update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=until)
    ).rowcount)


def release_lease(session: Session, *, name: str, holder: str) -> None:
    session.exec(update(Lease).where(Lease.name == name, Lease.holder == holder)
                    .values(holder="", expires_at=utcnow()))


def leases(session: Session) -> Sequence[Lease]:
    return session.exec(select(Lease).order_by(Lease.name)).all()


def claim_job_run(session: Session, *, job: str, scheduled_for: datetime, worker_id: str) -> bool:
    """Record that `worker_id` runs `job` for `scheduled_for`; False when another worker did."""
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, scheduled_for=scheduled_for, worker_id=worker_id))
    except IntegrityError:
        return False
    return True


def finish_job_run(session: Session, *, job: str, scheduled_for: datetime, outcome: str) -> None:
    row = session.get(JobRun, (job, scheduled_for))
    if row is not None:
        row.finished_at = utcnow()
        row.outcome = outcome
        session.add(row)


def beat(session: Session, *, worker_id: str, host: str, pid: int, started_at: datetime,
         status: str | None = None, push: str | None = None) -> None:
    """Write the heartbeat of a running worker (insert or update)."""
    row = session.get(Heartbeat, worker_id)
    if row is None or row.pid != pid or row.host != host:
        row = row or Heartbeat(worker_id=worker_id, host=host, pid=pid)
        row.host, row.pid, row.started_at, row.status = host, pid, started_at, ""
    row.beat_at = utcnow()
    if status is not None:
        row.status = status
    if push is not None:
        row.push = push
    session.add(row)


def forget_worker(session: Session, *, worker_id: str) -> None:
    row = session.get(Heartbeat, worker_id)
    if row is not None:
        session.delete(row)


def heartbeats(session: Session) -> Sequence[Heartbeat]:
    return session.exec(select(Heartbeat).order_by(Heartbeat.worker_id)).all()


def claim_delivery(session: Session, *, now: datetime):
    """The oldest pending delivery that is due (id, recipient, message_id, payload, attempts),
    locked for this transaction; None when none is due. Marked with `delivery_sent` or
    `delivery_failed` in the same transaction.

    On PostgreSQL `FOR UPDATE SKIP LOCKED`: a delivery another worker is sending is passed
    over, so two workers never send the same one at once. SQLite has no row locks (one
    worker)."""
    return _run(session, _DUE, {"now": now}).first()


def delivery_sent(session: Session, *, delivery_id: int, attempts: int) -> None:
    """The server accepted it: sent, and its payload dropped."""
    _run(session, _SENT, {"delivery": delivery_id, "tries": attempts, "now": utcnow()})


def delivery_failed(session: Session, *, delivery_id: int, attempts: int, error: str, final: bool,
                    next_attempt_at: datetime | None) -> None:
    """A failed try: tried again at `next_attempt_at`, or failed for good (`final`)."""
    changes = dict(attempts=attempts, last_error=error, status="failed") if final else dict(
        attempts=attempts, last_error=error, next_attempt_at=next_attempt_at)
    session.exec(update(Delivery).where(Delivery.id == delivery_id).values(**changes))


# built once: run for every delivery
_DUE = (select(Delivery.id, Delivery.recipient, Delivery.message_id, Delivery.payload, Delivery.attempts)
        .where(Delivery.status == "pending",
               or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= bindparam("now")))
        .order_by(Delivery.id).limit(1).with_for_update(skip_locked=True))
_SENT = (update(Delivery).where(Delivery.id == bindparam("delivery"))
         .values(status="sent", sent_at=bindparam("now"), payload=None, attempts=bindparam("tries")))


def delivery_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {status: count for status, count in rows}


# --- corrections from marks --------------------------------------------------------------
def corrections_of(session: Session, *, question_id: int) -> Sequence[Correction]:
    """The corrections recorded for one question, oldest first."""
    return session.exec(
        select(Correction).where(Correction.question_id == question_id).order_by(Correction.id)
    ).all()
