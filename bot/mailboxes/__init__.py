"""Mailbox kinds behind one interface (`bot.mailboxes.base.Mailbox`).

maildir (a local folder), imap (any IMAP server), ews (Exchange on-premises), graph
(Exchange Online). The pipeline never knows which one it runs on.
"""

from __future__ import annotations

import logging

from bot.mailboxes.base import Fetched, Mailbox, MailboxError, mark_labels
from bot.mailboxes.maildir import MaildirMailbox

log = logging.getLogger(__name__)


def open_mailbox(config) -> Mailbox:
    """The mailbox for one `[[mailboxes]]` entry of the settings (no connection made yet)."""
    if config.kind == "maildir":
        return MaildirMailbox(name=config.name, path=config.path)
    if config.kind == "imap":
        from bot.mailboxes.imap import ImapMailbox

        return ImapMailbox.from_config(config)
    if config.kind == "ews":
        from bot.mailboxes.ews import EwsMailbox

        return EwsMailbox.from_config(config)
    if config.kind == "graph":
        from bot.mailboxes.graph import GraphMailbox

        return GraphMailbox.from_config(config)
    raise MailboxError(f"mailbox '{config.name}': kind '{config.kind}' bestaat niet")


def mark_question(mailbox: Mailbox, config, question, *, ruleset=None, contacts=()) -> None:
    """Give the mailbox item of a routed (or review) question its marks; a failure is logged,
    never fatal: the decision is stored and delivered whether or not Outlook shows it."""
    if not getattr(mailbox, "can_mark", False) or question is None:
        return
    if question.status not in ("routed", "review") or question.mailbox != config.name:
        return
    names = {c.email.lower(): c.name for c in contacts}
    labels = mark_labels(
        config, theme=question.theme, theme_name=ruleset.theme_name(question.theme) if ruleset else None,
        assignee=question.assignee, assignee_name=names.get((question.assignee or "").lower()),
        review=question.status == "review")
    if not labels and not getattr(config, "move_to", ""):
        return
    try:
        mailbox.mark(question.source_id, labels)
    except MailboxError as exc:
        log.warning("mailbox %s: marking question %s failed: %s", config.name, question.triage_id, exc)
    except Exception as exc:  # a client library's own error: marks are never worth a failed poll
        log.warning("mailbox %s: marking question %s failed (%s)", config.name, question.triage_id,
                    type(exc).__name__)


class MailboxSender:
    """Delivery kind `mailbox`: send through an ews or graph mailbox as its shared address."""

    def __init__(self, mailbox) -> None:
        self.mailbox = mailbox

    @classmethod
    def from_config(cls, config) -> "MailboxSender":
        from bot.delivery import DeliveryError

        if config.kind not in ("ews", "graph"):
            raise DeliveryError(f"delivery.mailbox '{config.name}' is kind {config.kind}: alleen ews of graph "
                                "kan als de gedeelde mailbox versturen")
        try:
            return cls(open_mailbox(config))
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None

    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        from bot.delivery import DeliveryError

        try:
            self.mailbox.send(payload=payload, recipient=recipient, message_id=message_id)
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None

    def check(self) -> str:
        from bot.delivery import DeliveryError

        try:
            return f"verzenden via mailbox {self.mailbox.name}: {self.mailbox.check()}"
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None


__all__ = ["Fetched", "Mailbox", "MailboxError", "MailboxSender", "MaildirMailbox", "mark_question", "open_mailbox"]
