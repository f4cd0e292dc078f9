"""Data access: plain functions, keyword-only arguments, the session passed in.

The caller owns the unit of work (`storage.db.unit_of_work`); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import (
    Absence,
    AuditEntry,
    ContactPerson,
    Correction,
    Delivery,
    Quarantine,
    Question,
    SyncCursor,
    utcnow,
)

OPEN_STATES = ("routed", "review", "reassigned")


# --- sync cursors ------------------------------------------------------------------------
def get_cursor(session: Session, *, mailbox: str, folder: str = "inbox") -> str:
    row = session.get(SyncCursor, (mailbox, folder))
    return row.value if row else ""


def set_cursor(session: Session, *, mailbox: str, folder: str = "inbox", value: str) -> None:
    row = session.get(SyncCursor, (mailbox, folder)) or SyncCursor(mailbox=mailbox, folder=folder)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)


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


def message_id_seen(session: Session, *, message_id: str) -> bool:
    return session.exec(select(Question.id).where(Question.message_id == message_id)).first() is not None


def question_by_message_id(session: Session, *, message_id: str) -> Question | None:
    return session.exec(select(Question).where(Question.message_id == message_id)).first()


def question_by_ref(session: Session, *, ref: str) -> Question | None:
    """A question by its database id or its triage id."""
    if ref.isdigit():
        return session.get(Question, int(ref))
    return session.exec(select(Question).where(Question.triage_id == ref)).first()


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
    session.add(AuditEntry(action=action, question_id=question_id, actor=actor, detail=detail))


# --- replies and marks -------------------------------------------------------------------
def question_for_item(session: Session, *, mailbox: str, source_id: str) -> Question | None:
    """The question (or skip) stored for one mailbox item."""
    return session.exec(
        select(Question).where(Question.mailbox == mailbox, Question.source_id == source_id)
    ).first()


def question_replied_to(session: Session, *, message_id: str) -> Question | None:
    """The question a Message-ID in In-Reply-To/References stands for: the question's own
    Message-ID, or that of one of our forwards of it (a contact person answering the forward)."""
    question = session.exec(
        select(Question).where(Question.message_id == message_id, Question.status != "skipped")
    ).first()
    if question is not None:
        return question
    return session.exec(
        select(Question).join(Delivery, Delivery.question_id == Question.id).where(Delivery.message_id == message_id)
    ).first()


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
