"""The tables. Storage knows tables, not protocols: nothing here knows IMAP or EWS.

What is kept, and why (privacy by design, AVG):
- `question`: metadata of each message (no address book, no full headers), the screening
  verdict, the classification with model version and confidence, the routing decision with
  the rules that hit and missed, and the backlog state. `subject` and `body` are stored
  redacted; `body` only for training and only for the retention period (`purge`).
- `delivery`: the outbox. The composed message is stored before it is sent, and its
  payload is dropped once the server has accepted it; the stable Message-ID stays.
- `quarantine`: what could not be handled, with the reason; the mail itself stays in the
  mailbox untouched.
- `inbox`: a fetched mail waiting for triage, raw, from the read that fetched it until the
  transaction that records its outcome (which deletes the row); seconds, as a rule.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Default factories as Python functions, not the builtins `list` and `dict`: pydantic reads a
# factory's signature at every construction, and a builtin's is parsed from text (six times
# slower; a fifth of storing a question).
def empty_list() -> list:
    return []


def empty_dict() -> dict:
    return {}


class SyncCursor(SQLModel, table=True):
    """Where a mailbox folder was read up to (Maildir key, IMAP UID, EWS sync state, delta link)."""

    __tablename__ = "sync_cursor"
    mailbox: str = Field(primary_key=True)
    folder: str = Field(primary_key=True, default="inbox")
    value: str = ""
    updated_at: datetime = Field(default_factory=utcnow)


class Question(SQLModel, table=True):
    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("mailbox", "source_id"),
        # one question per Message-ID: two workers reading the same mail from two mailboxes at
        # once cannot both route it (the later commit fails and is stored as a duplicate)
        Index("uq_question_asked_message_id", "message_id", unique=True,
              postgresql_where=text("verdict = 'question'"), sqlite_where=text("verdict = 'question'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    triage_id: str = Field(index=True, unique=True)  # the id in X-BvhK-Triage
    mailbox: str
    source_id: str
    message_id: str = Field(index=True)
    fingerprint: str = ""
    received_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    subject: str = ""  # redacted
    sender: str = ""  # the asker's address, while the question needs it (a reply-to); purged with the body
    sender_domain: str = ""
    sender_hash: str = Field(default="", index=True)  # keyed hash of the address: threads and askers counted
    asking_organisation: str | None = None
    size: int = 0
    attachments: int = 0

    verdict: str = "question"  # screening verdict
    verdict_reason: str = ""
    screen_hits: list = Field(default_factory=empty_list, sa_column=Column(JSON))  # screening rules that said yes
    screen_misses: list = Field(default_factory=empty_list, sa_column=Column(JSON))

    theme: str | None = Field(default=None, index=True)
    theme_confidence: float = 0.0
    organisation: str | None = None  # the organisation that should answer
    organisation_confidence: float = 0.0
    organisation_source: str = ""  # model | mailbox (the model abstained: the arrival mailbox's)
    region: str | None = None  # the region located from signature, sender and places
    region_confidence: float = 0.0
    region_reason: str = ""
    region_found: str | None = None  # where the contact person was found (after overflow)
    model_version: str = ""
    explanation: list = Field(default_factory=empty_list, sa_column=Column(JSON))
    signal_terms: list = Field(default_factory=empty_list, sa_column=Column(JSON))  # controlled vocabulary only

    assignee: str | None = Field(default=None, index=True)  # contact person's e-mail
    rule: str = ""
    route_reason: str = ""
    rules_hit: list = Field(default_factory=empty_list, sa_column=Column(JSON))
    rules_missed: list = Field(default_factory=empty_list, sa_column=Column(JSON))
    priority: str = "normaal"

    status: str = Field(default="new", index=True)  # new|routed|review|quarantine|reassigned|answered|closed|skipped
    thread_of: int | None = Field(default=None, foreign_key="question.id")  # a follow-up: the question it joins
    due_on: date | None = None
    due_rule: str = ""  # what set the term: a rule's name, or "thema <key>"
    routed_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None

    body: str | None = None  # redacted question text, kept for training until purged
    corrected: bool = False


class Delivery(SQLModel, table=True):
    """One outgoing message for one question and recipient: stored before it is sent."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("question_id", "recipient", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    recipient: str
    purpose: str = "forward"  # forward | copy | review | follow_up | quarantine | reminder | escalation | ...
    message_id: str = Field(unique=True)  # stable: a resend after an unknown outcome is recognisable
    payload: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    status: str = Field(default="pending", index=True)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)  # back-off after a failure
    last_error: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Original(SQLModel, table=True):
    """The raw bytes of a question that waits for a person (in review or quarantine), kept to
    forward it as received once someone decides; dropped when forwarded, or by retention."""

    __tablename__ = "original"
    question_id: int = Field(foreign_key="question.id", primary_key=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: datetime = Field(default_factory=utcnow)


class Quarantine(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("mailbox", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    source_id: str
    fingerprint: str = ""
    reason: str
    attempts: int = 1
    final: bool = True  # False while a failing message is still retried (up to three times)
    created_at: datetime = Field(default_factory=utcnow)


class InboxItem(SQLModel, table=True):
    """A fetched mail waiting for triage: reading and triage are separate steps joined by this
    table (`bot.service.worker`). The reader of a mailbox stores the item and the mailbox's
    cursor in one transaction; any worker claims items (FOR UPDATE SKIP LOCKED), triages them,
    and deletes each in the transaction that records its outcome."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("mailbox", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)  # the order of arrival
    mailbox: str
    source_id: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    queued_at: datetime = Field(default_factory=utcnow)
    claimed_by: str = ""  # the worker triaging it; "" while it waits
    claimed_until: datetime | None = None  # a claim lapses, so a dead worker's items go on


class ContactPerson(SQLModel, table=True):
    """The directory as last imported, with what the CSV cannot say: absences."""

    __tablename__ = "contact_person"
    email: str = Field(primary_key=True)
    name: str
    organisation: str
    region: str = ""
    location: str = ""
    themes: list = Field(default_factory=empty_list, sa_column=Column(JSON))
    capacity: int = 10
    active: bool = True
    role: str = "contactpersoon"
    deputy: str = ""


class Absence(SQLModel, table=True):
    __tablename__ = "absence"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)
    start: date
    end: date


class Correction(SQLModel, table=True):
    """A person's correction of a classification: training data for the next model."""

    __tablename__ = "correction"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    theme: str
    organisation: str | None = None
    region: str | None = None
    by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what: routing decisions, corrections, rule changes, model promotions, purges."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = "bvhk-triage"
    action: str
    question_id: int | None = None
    detail: dict | None = Field(default_factory=empty_dict, sa_column=Column(JSON))
    # the chain (storage.audit): place, hash of the detail, of the row before, of this row
    seq: int | None = Field(default=None, sa_column=Column(Integer, unique=True))
    detail_hash: str = ""
    prev_hash: str = ""
    hash: str = ""


class ActionPoint(SQLModel, table=True):
    """An item for the SKIV meeting, raised from a signal of the weekly report, and what the
    meeting decided on it: the action, its owner and its status (bot.reports.agenda)."""

    __tablename__ = "action_point"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str
    title: str
    theme: str | None = Field(default=None, index=True)  # a theme key; None: every theme
    signal: str = ""  # the report's signal it came from, e.g. "thema stijgt: voogdij (2026-W48)"
    status: str = Field(default="agenda", index=True)  # agenda | open | gereed | vervallen
    decision: str = ""  # what the meeting decided (the action point)
    owner: str = ""  # who carries it out
    updated_at: datetime = Field(default_factory=utcnow)


class WebUser(SQLModel, table=True):
    """A local account of the web console (set-ups without single sign-on). The password only
    as an argon2 hash; a person signed in by OpenID Connect has no row here."""

    __tablename__ = "web_user"
    username: str = Field(primary_key=True)
    role: str  # contact | coordinator | admin | reader
    organisation: str = ""  # a coordinator's organisation (IND, DT&V, RvdK)
    region: str = ""  # a coordinator's region, where set: then only that region
    email: str = ""  # a contact person's address: their questions are those assigned to it
    password_hash: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Lease(SQLModel, table=True):
    """Who may do one thing now (poll mailbox "mailbox:<name>"), until when: several workers
    share the mailboxes, each polled by one worker at a time. Taken with one conditional
    UPDATE (free, expired, or already ours), renewed in every message's transaction."""

    __tablename__ = "lease"
    name: str = Field(primary_key=True)
    holder: str = ""  # worker id; "" when released
    expires_at: datetime
    acquired_at: datetime = Field(default_factory=utcnow)
    host: str = ""  # where the holder runs, and its process id: a holder on this host that
    pid: int = 0  # no longer runs has its lease taken at once


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (digest, report, purge, ...): the first worker to insert the
    row for a job and its scheduled minute runs it; the others skip."""

    __tablename__ = "job_run"
    job: str = Field(primary_key=True)
    scheduled_for: datetime = Field(primary_key=True)
    worker_id: str
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: str = ""  # "ok", or the error class name


class Heartbeat(SQLModel, table=True):
    """A running `run` process: written at start and every few seconds, removed at a clean stop."""

    __tablename__ = "heartbeat"
    worker_id: str = Field(primary_key=True)
    host: str
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    beat_at: datetime = Field(default_factory=utcnow)
    status: str = ""  # the last poll in one line: counts, or what was unreachable (no personal data)
    push: str = ""  # JSON: mailbox name -> the state of this worker's push watcher for it
