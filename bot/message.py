"""The one typed record a question travels in, and the results each stage adds to it.

`Message` is what parsing makes of the raw bytes of one mail. The stages of the pipeline
(`bot.triage.pipeline.STAGES`) each read a `Triage` and return it with one more field filled in;
nothing else crosses the boundaries between `bot/`, `classifiers/`, `rules/` and `storage/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as listed, never opened: name, MIME type and size in bytes."""

    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Message:
    """One mail from a functional mailbox, decoded to what a person reads."""

    mailbox: str  # the configured mailbox name it came from
    source_id: str  # its id within that mailbox (Maildir key, IMAP UID, EWS/Graph item id)
    message_id: str  # RFC 5322 Message-ID with angle brackets; synthesised when missing
    subject: str  # decoded (RFC 2047)
    sender: str  # address of the asker: the original sender of a forwarded question
    sender_name: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: datetime | None = None
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # screening headers, lower-case names
    text: str = ""  # the whole readable text of the body
    question: str = ""  # the question alone: no quoted history, signature or disclaimer
    signature: str = ""  # the signature block, kept apart (it names the asker's office)
    attachments: tuple[Attachment, ...] = ()
    content_type: str = "text/plain"  # the top-level MIME type
    size: int = 0  # bytes of the raw message
    fingerprint: str = ""  # sha256 of the raw bytes
    raw: bytes = field(default=b"", repr=False, compare=False)  # as received: for what must read it whole
    forwarded_by: str = ""  # who forwarded it into the mailbox, when it is a forward
    defects: tuple[str, ...] = ()  # MIME defects found while parsing (for the record)


@dataclass(frozen=True, slots=True)
class Label:
    """A label with its confidence (0..1)."""

    label: str | None
    confidence: float = 0.0

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True, slots=True)
class Screening:
    """The screening verdict: `question` goes on; every other verdict is skipped."""

    verdict: str  # question | auto_reply | bounce | answer | own_message | duplicate | ...
    reason: str = ""  # in Dutch, for people: which header or phrase gave it away
    refers_to: str = ""  # a bounce: the Message-ID that bounced; an answer: the question's
    hits: tuple[str, ...] = ()  # every screening rule that said yes (the first decides)
    misses: tuple[str, ...] = ()  # every screening rule that said no

    @property
    def is_question(self) -> bool:
        return self.verdict == "question"


@dataclass(frozen=True, slots=True)
class Classification:
    theme: Label
    organisation: Label  # the organisation that should answer
    asking_organisation: Label
    organisation_source: str = "model"  # model | mailbox (the model abstained: the arrival mailbox's)
    explanation: tuple[str, ...] = ()  # the terms that weighed most
    model_version: str = ""


@dataclass(frozen=True, slots=True)
class Route:
    """The routing decision: who gets the question, by which rule, and why."""

    assignee: str | None  # contact person's e-mail, None when the question goes to review
    rule: str
    reason: str
    review: bool = False
    copy_to: tuple[str, ...] = ()
    priority: str = "normaal"
    due_days: int | None = None
    hits: tuple[str, ...] = ()
    misses: tuple[str, ...] = ()
    organisation: str | None = None  # the organisation whose contact person answers
    region: str | None = None  # where the contact person was found (after overflow)
    due_on: date | None = None  # the working day the answer is due
    due_rule: str = ""  # what set the term: a rule's name, or "thema <key>" for the theme's default

    @property
    def status(self) -> str:
        """What the backlog calls it: routed to a person, or waiting for review."""
        return "review" if self.review or not self.assignee else "routed"

    def as_dict(self) -> dict:
        return {"assignee": self.assignee, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Triage:
    """A message and what the stages decided about it, filled in stage by stage."""

    message: Message
    screening: Screening | None = None
    classification: Classification | None = None
    region: Label | None = None
    region_reason: str = ""
    route: Route | None = None
    predictions: Mapping[str, Any] | None = None  # the model's, when asked ahead for a batch (`pipeline.prepare`)

    def with_(self, **changes) -> "Triage":
        return replace(self, **changes)
