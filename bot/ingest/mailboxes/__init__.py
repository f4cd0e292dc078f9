"""Mailbox kinds behind one interface (`bot.ingest.mailboxes.base.Mailbox`).

maildir (a local folder), imap (any IMAP server), ews (Exchange on-premises), graph
(Exchange Online). The pipeline never knows which one it runs on.
"""

from __future__ import annotations

import logging

from bot.ingest.mailboxes.base import Fetched, Mailbox, MailboxError, clear_text_login, mark_labels
from bot.ingest.mailboxes.maildir import MaildirMailbox

log = logging.getLogger(__name__)


def open_mailbox(config) -> Mailbox:
    """The mailbox for one `[[mailboxes]]` entry of the settings (no connection made yet)."""
    if config.kind == "maildir":
        return MaildirMailbox(name=config.name, path=config.path)
    reason = clear_text_login(config)
    if reason and not config.allow_insecure:
        raise MailboxError(f"mailbox '{config.name}': geweigerd: {reason} (of zet allow_insecure = true)")
    if config.kind == "imap":
        from bot.ingest.mailboxes.imap import ImapMailbox

        return ImapMailbox.from_config(config)
    if config.kind == "ews":
        from bot.ingest.mailboxes.ews import EwsMailbox

        return EwsMailbox.from_config(config)
    if config.kind == "graph":
        from bot.ingest.mailboxes.graph import GraphMailbox

        return GraphMailbox.from_config(config)
    raise MailboxError(f"mailbox '{config.name}': kind '{config.kind}' bestaat niet")


def mark_question(mailbox: Mailbox, config, question, *, ruleset=None, contacts=()) -> None:
    """Give the mailbox item of a routed (or review) question its marks; a failure is logged,
    never fatal: the decision is stored and delivered whether or not Outlook shows it."""
    if not getattr(mailbox, "can_mark", False) or question is None:
        return
    if question.status not in ("routed", "review", "quarantine") or question.mailbox != config.name:
        return
    names = {c.email.lower(): c.name for c in contacts}
    labels = mark_labels(
        config, theme=question.theme, theme_name=ruleset.theme_name(question.theme) if ruleset else None,
        assignee=question.assignee, assignee_name=names.get((question.assignee or "").lower()),
        review=question.status == "review", quarantine=question.status == "quarantine")
    if not labels and not getattr(config, "move_to", ""):
        return
    try:
        mailbox.mark(question.source_id, labels)
    except MailboxError as exc:
        log.warning("mailbox %s: marking question %s failed: %s", config.name, question.triage_id, exc)
    except Exception as exc:  # a client library's own error: marks are never worth a failed poll
        log.warning("mailbox %s: marking question %s failed (%s)", config.name, question.triage_id,
                    type(exc).__name__)


__all__ = ["Fetched", "Mailbox", "MailboxError", "clear_text_login", "MaildirMailbox", "mark_question", "open_mailbox"]
