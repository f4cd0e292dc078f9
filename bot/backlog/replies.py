"""Reply detection: when is a question answered?

A question is answered when a reply to it appears in the shared mailbox's sent items (here),
or when a contact person's reply with the shared mailbox in To or Cc arrives in the inbox
(the screening rule `answer`, recorded by `bot.backlog.record`).
A reply names what it answers in In-Reply-To and References: the question's own
Message-ID, or that of our forward of it (a contact person answering the forward). Without
those headers, an Exchange conversation id leads to the question. The backlog keeps the
time of the first answer (`answered_at`); an open question becomes `answered`.

Sent items are read from their own cursor (folder "sent" of the sync_cursor table) once
per mailbox per poll; a batch of replies and the cursor after it are one transaction, so
a crash reads the batch again, and recording an answer twice changes nothing. Messages the
product sent itself (forwards through the mailbox) and automatic replies answer nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from itertools import islice
from typing import TypeVar

from sqlalchemy.engine import Engine

from storage import repo
from storage.db import unit_of_work
from storage.models import utcnow

log = logging.getLogger(__name__)

SENT = "sent"  # the sync_cursor folder of the sent items
BATCH = 200
_IDS = re.compile(r"<[^<>\s]{1,250}>")
Q = TypeVar("Q")


@dataclass(frozen=True, slots=True)
class Reply:
    """What reply detection reads of a message: headers only."""

    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    sender: str = ""
    recipients: tuple[str, ...] = ()
    date: datetime | None = None
    conversation_id: str = ""
    automatic: bool = False  # an automatic reply, or a message the product sent itself


def read_reply(raw: bytes, *, conversation_id: str = "") -> Reply:
    """The reply headers of raw mail (or of a header block); never raises on odd input."""
    headers = BytesHeaderParser().parsebytes(raw)

    def text(name: str) -> str:
        return str(headers.get(name, "") or "")

    message_id = next(iter(_IDS.findall(text("Message-ID"))), "")
    try:
        date = parsedate_to_datetime(text("Date")) if text("Date") else None
    except (TypeError, ValueError):
        date = None
    auto = text("Auto-Submitted").strip().lower()
    automatic = bool(text("X-BvhK-Triage")) or message_id.endswith("@bvhk-triage>") or auto not in ("", "no")
    senders = [addr for _, addr in getaddresses([text("From")]) if addr]
    recipients = [addr.lower() for _, addr in getaddresses([text("To"), text("Cc")]) if addr]
    return Reply(
        message_id=message_id,
        in_reply_to=tuple(_IDS.findall(text("In-Reply-To"))),
        references=tuple(_IDS.findall(text("References"))),
        sender=senders[0].lower() if senders else "",
        recipients=tuple(recipients),
        date=date,
        conversation_id=conversation_id,
        automatic=automatic,
    )


def replied_to(reply: Reply) -> list[str]:
    """The Message-IDs a reply answers, most direct first: In-Reply-To, then References
    from the newest to the oldest."""
    seen: list[str] = []
    for message_id in (*reply.in_reply_to, *reversed(reply.references)):
        if message_id not in seen and message_id != reply.message_id:
            seen.append(message_id)
    return seen


def find_question(
    reply: Reply,
    *,
    by_message_id: Callable[[str], Q | None],
    by_conversation: Callable[[str], Q | None] | None = None,
) -> Q | None:
    """The question a reply answers, or None. Pure: the lookups are passed in."""
    if reply.automatic:
        return None
    for message_id in replied_to(reply):
        found = by_message_id(message_id)
        if found is not None:
            return found
    if reply.conversation_id and by_conversation is not None and not replied_to(reply):
        return by_conversation(reply.conversation_id)
    return None


# --- the two places answers are found -----------------------------------------------------
def detect_replies(engine: Engine, mailbox, *, name: str) -> int:
    """Read the mailbox's sent items since the "sent" cursor; return how many questions got
    their (first) answer. Raises MailboxError like fetch does."""
    with unit_of_work(engine) as session:
        cursor = repo.get_cursor(session, mailbox=name, folder=SENT)
    in_conversation = getattr(mailbox, "message_ids_in_conversation", None)
    items = iter(mailbox.sent_items(cursor))
    answered = 0
    while batch := list(islice(items, BATCH)):
        with unit_of_work(engine) as session:

            def by_message_id(message_id: str):
                return repo.question_replied_to(session, message_id=message_id)

            def by_conversation(conversation_id: str):
                for message_id in in_conversation(conversation_id):
                    found = by_message_id(message_id)
                    if found is not None:
                        return found
                return None

            for item in batch:
                reply = read_reply(item.raw, conversation_id=item.conversation_id)
                question = find_question(reply, by_message_id=by_message_id,
                                         by_conversation=by_conversation if in_conversation else None)
                if question is not None and repo.record_answer(
                        session, question=question, at=reply.date or utcnow(), via="sent_items"):
                    answered += 1
            repo.set_cursor(session, mailbox=name, folder=SENT, value=batch[-1].cursor)
    if answered:
        log.info("mailbox %s: %d question(s) answered from the sent items", name, answered)
    return answered
