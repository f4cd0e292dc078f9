"""The one small interface every mailbox protocol sits behind.

The pipeline never knows which protocol it runs on. A mailbox hands out what is new
since a cursor, without changing the mailbox (the contact persons read the same shared
mailbox in Outlook). The cursor is stored by the caller in the same transaction as the
questions it produced, so a crash re-reads and never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class MailboxError(Exception):
    """A mailbox cannot be read: one Dutch line, no secrets, no personal data."""


@dataclass(frozen=True, slots=True)
class Fetched:
    source_id: str  # the item's id in the mailbox
    raw: bytes  # the RFC 5322 bytes
    cursor: str  # the cursor to store once this item (and all before it) is handled


class Mailbox(Protocol):
    name: str

    def fetch(self, cursor: str) -> Iterator[Fetched]:
        """Items of the inbox that are new since `cursor` ("" = from the start), oldest first."""

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        """Items of the sent folder new since `cursor`: replies that answer questions."""

    def check(self) -> str:
        """Connect and say what works in one Dutch line; raise MailboxError if it does not."""

    def close(self) -> None: ...
