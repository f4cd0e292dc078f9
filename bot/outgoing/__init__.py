"""Outgoing mail: composing the forward and the delivery kinds behind one `Sender` interface.

outbox (a local Maildir per recipient), smtp (any SMTP server), mailbox (send through an
ews or graph mailbox as the shared address).
"""

from __future__ import annotations

from bot.outgoing.base import DeliveryError, Sender
from bot.outgoing.outbox import OutboxSender
from bot.outgoing.smtp import SmtpSender
from bot.outgoing.through_mailbox import MailboxSender


def open_sender(delivery, *, mailboxes=()) -> Sender:
    """The sender for `[delivery]`; kind `mailbox` sends through the named `[[mailboxes]]` entry."""
    if delivery.kind == "outbox":
        return OutboxSender(delivery.path)
    if delivery.kind == "smtp":
        return SmtpSender.from_settings(delivery)
    if delivery.kind == "mailbox":
        config = next((m for m in mailboxes if m.name == delivery.mailbox), None)
        if config is None:
            raise DeliveryError(f"delivery.mailbox '{delivery.mailbox}': geen ews- of graph-mailbox met die naam")
        return MailboxSender.from_config(config)
    raise DeliveryError(f"delivery kind '{delivery.kind}' is not available yet")


__all__ = ["DeliveryError", "MailboxSender", "OutboxSender", "Sender", "SmtpSender", "open_sender"]
