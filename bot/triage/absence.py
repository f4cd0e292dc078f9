"""Absence from automatic replies: a contact person whose out-of-office reply is on today is
absent for routing, as if entered with `contacts absent` (issue 6).

Behind `[routing] read_automatic_replies` (off by default); only the ews and graph kinds can
tell. The active contact persons of an organisation are asked through the first ews or graph
mailbox of that organisation (EWS GetUserOofSettings, Graph automaticRepliesSetting); that
needs rights on the contact persons' own mailboxes (see config.example.toml). The answer is
kept CACHE_SECONDS, so the mailboxes of one poll share it; one round of asking stops after
BUDGET_SECONDS, and a mailbox's round after two failures in a row. What cannot be read is
logged as one line per mailbox, without addresses, and counts as present: absence then comes
only from `contacts absent`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import date

from bot.ingest.mailboxes import MailboxError, open_mailbox
from bot.settings import ConfigError
from storage import repo

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
BUDGET_SECONDS = 20.0
FAILURES_IN_A_ROW = 2

_cache: dict[tuple, tuple[float, frozenset[str]]] = {}
_lock = threading.Lock()


def absent_on(session, settings, contacts: Iterable, day: date) -> set[str]:
    """Who is away on `day` as routing and follow-up see it: an absence planned with
    `contacts absent`, or an automatic reply that is on (when `read_automatic_replies`)."""
    return repo.absent_on(session, day=day) | automatic_reply_absences(settings, contacts, day)


def automatic_reply_absences(settings, contacts: Iterable, today: date) -> set[str]:
    """The e-mail addresses (lower case) of active contact persons whose automatic reply is on
    for `today`; empty when the setting is off or no ews/graph mailbox can ask."""
    if not settings.routing.read_automatic_replies:
        return set()
    servers: dict[str, object] = {}  # organisation -> the mailbox settings to ask through
    for config in settings.mailboxes:
        if config.kind in ("ews", "graph"):
            servers.setdefault(config.organisation, config)
    asked = tuple(sorted({(c.organisation, c.email.lower()) for c in contacts
                          if c.active and c.organisation in servers}))
    if not asked:
        return set()
    key = (tuple(servers.items()), asked, today)
    with _lock:  # one thread asks; the others wait for its answer
        hit = _cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return set(hit[1])
        absent = _ask(servers, asked, today)
        _cache.clear()
        _cache[key] = (time.monotonic() + CACHE_SECONDS, frozenset(absent))
    return absent


def _ask(servers: dict, asked: tuple[tuple[str, str], ...], today: date) -> set[str]:
    deadline = time.monotonic() + BUDGET_SECONDS
    absent: set[str] = set()
    for organisation, config in servers.items():
        emails = [email for org, email in asked if org == organisation]
        unread, in_a_row, reason = 0, 0, ""
        try:
            mailbox = open_mailbox(config)
        except Exception as exc:  # a missing secret or kind: one line, and no absences from here
            log.warning("automatic replies via mailbox %s not read: %s", config.name, _line(exc))
            continue
        try:
            for index, email in enumerate(emails):
                if in_a_row >= FAILURES_IN_A_ROW or time.monotonic() > deadline:
                    unread += len(emails) - index
                    reason = reason or "tijd op"
                    break
                try:
                    if mailbox.automatic_reply(email).covers(today):
                        absent.add(email)
                    in_a_row = 0
                except Exception as exc:  # MailboxError, or a client library's own error
                    unread, in_a_row, reason = unread + 1, in_a_row + 1, reason or _line(exc)
        finally:
            mailbox.close()
        if unread:
            log.warning("automatic replies via mailbox %s: %d of %d contact persons not read (%s)",
                        config.name, unread, len(emails), reason)
    return absent


def _line(exc: BaseException) -> str:
    """One line without personal data: our own messages, else the error's type."""
    return str(exc) if isinstance(exc, (MailboxError, ConfigError)) else type(exc).__name__


def forget() -> None:
    """Drop the cached answer (tests, or after contacts changed their settings)."""
    with _lock:
        _cache.clear()
