"""Delivery: compose the forward, and hand stored deliveries to the configured sender.

The routing decision and the composed message are stored first (`bot.worker`); sending
reads the stored deliveries, so a crash between the two loses nothing, and each message
carries a stable Message-ID so a resend after an unknown outcome is recognisable.
"""

from __future__ import annotations

import hashlib
import os
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from bot.render import render


class DeliveryError(Exception):
    """Sending failed: one line, no personal data."""


def outgoing_message_id(*, triage_id: str, recipient: str, purpose: str) -> str:
    """Stable: the same question, recipient and purpose always give the same Message-ID."""
    digest = hashlib.sha256(f"{triage_id}|{recipient.lower()}|{purpose}".encode()).hexdigest()[:16]
    return f"<{triage_id}.{purpose}.{digest}@bvhk-triage>"


def compose_forward(
    *,
    raw: bytes,
    original_message_id: str,
    original_subject: str,
    sender: str,
    recipient: str,
    message_id: str,
    triage_id: str,
    summary: dict,
) -> bytes:
    """The forward: a short Dutch triage summary on top, the original attached unchanged."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"[BvhK {summary['theme_name']}] {original_subject or '(geen onderwerp)'}"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = original_message_id
    msg["References"] = original_message_id
    msg["X-BvhK-Triage"] = triage_id
    msg["X-BvhK-Triage-Original"] = original_message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(render("forward.txt.j2", triage_id=triage_id, **summary))
    original = BytesParser(policy=policy.default).parsebytes(raw)
    msg.add_attachment(original, filename="vraag.eml")
    return msg.as_bytes()


class Sender(Protocol):
    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        """Deliver, or raise DeliveryError. Must be safe to call twice for one message_id."""

    def check(self) -> str: ...


class OutboxSender:
    """The `outbox` kind: a local Maildir per recipient (the embedded default).

    The file name derives from the Message-ID, so delivering the same message twice
    leaves one file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        folder = self.path / recipient.lower()
        name = hashlib.sha256(message_id.encode()).hexdigest()[:24]
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if any((folder / sub / name).exists() for sub in ("new", "cur")):
            return
        tmp = folder / "tmp" / f"{name}.{os.getpid()}.{time.monotonic_ns()}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, folder / "new" / name)
        except OSError as exc:
            raise DeliveryError(f"outbox {folder}: {exc.strerror}") from None

    def check(self) -> str:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"outbox {self.path}: {exc.strerror}") from None
        if not os.access(self.path, os.W_OK):
            raise DeliveryError(f"outbox {self.path}: niet schrijfbaar")
        return f"outbox {self.path}: schrijfbaar"


def open_sender(delivery, *, mailboxes=()) -> Sender:
    """The sender for `[delivery]`; kind `mailbox` sends through the named `[[mailboxes]]` entry."""
    if delivery.kind == "outbox":
        return OutboxSender(delivery.path)
    if delivery.kind == "smtp":
        from bot.smtp import SmtpSender

        return SmtpSender.from_settings(delivery)
    if delivery.kind == "mailbox":
        from bot.mailboxes import MailboxSender

        config = next((m for m in mailboxes if m.name == delivery.mailbox), None)
        if config is None:
            raise DeliveryError(f"delivery.mailbox '{delivery.mailbox}': geen ews- of graph-mailbox met die naam")
        return MailboxSender.from_config(config)
    raise DeliveryError(f"delivery kind '{delivery.kind}' is not available yet")
