"""Mailbox kinds behind one interface (`bot.mailboxes.base.Mailbox`)."""

from __future__ import annotations

from bot.mailboxes.base import Fetched, Mailbox, MailboxError
from bot.mailboxes.maildir import MaildirMailbox


def open_mailbox(config) -> Mailbox:
    """The mailbox for one `[[mailboxes]]` entry of the settings."""
    if config.kind == "maildir":
        return MaildirMailbox(name=config.name, path=config.path)
    raise MailboxError(f"mailbox '{config.name}': kind '{config.kind}' is not available yet")


__all__ = ["Fetched", "Mailbox", "MailboxError", "MaildirMailbox", "open_mailbox"]
