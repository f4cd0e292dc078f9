"""Local accounts of the web console: added, listed and removed by `bvhk-triage users`, their
passwords hashed with argon2 (argon2-cffi's defaults, RFC 9106), and sign-in attempts limited.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

import rules
from bot.errors import ActionError
from bot.web.access import ROLES, Person
from storage import console
from storage.models import WebUser

MIN_PASSWORD = 12
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("een wachtwoord dat niemand heeft")  # unknown users cost as much time as known ones


def add(session, *, username: str, role: str, password: str, organisation: str = "", region: str = "",
        email: str = "") -> WebUser:
    """Add or replace a local account; ActionError names what is wrong."""
    username = username.strip()
    if not re.fullmatch(r"[\w.@-]{1,64}", username):
        raise ActionError(f"gebruikersnaam '{username[:64]}': gebruik letters, cijfers en . - _ @ (hoogstens 64 tekens)")
    if role not in ROLES:
        raise ActionError(f"onbekende rol '{role}' (bekend: {', '.join(ROLES)})")
    if role == "coordinator" and organisation not in rules.ORGANISATIONS:
        raise ActionError(f"een coördinator hoort bij een organisatie: --organisation {'|'.join(rules.ORGANISATIONS)}")
    if organisation and organisation not in rules.ORGANISATIONS:
        raise ActionError(f"onbekende organisatie '{organisation}' (bekend: {', '.join(rules.ORGANISATIONS)})")
    if role == "contact" and "@" not in email:
        raise ActionError("een contactpersoon heeft een e-mailadres nodig (--email): daaraan zijn de vragen toegewezen")
    if len(password) < MIN_PASSWORD:
        raise ActionError(f"het wachtwoord is te kort: minstens {MIN_PASSWORD} tekens")
    account = WebUser(username=username, role=role, organisation=organisation, region=region,
                      email=email.strip().lower(), password_hash=_HASHER.hash(password))
    console.save_user(session, account=account)
    return account


def verify(session, *, username: str, password: str) -> Person | None:
    """The person, when the password is theirs; None otherwise (the same time either way)."""
    account = console.user(session, username=username.strip())
    try:
        _HASHER.verify(account.password_hash if account else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if account is None:
        return None
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
        session.add(account)
    return person_of(account)


def person_of(account: WebUser) -> Person:
    return Person(username=account.username, role=account.role, organisation=account.organisation,
                  region=account.region, email=account.email, via="lokaal")


class Throttle:
    """At most `attempts` failed sign-ins per username and per client address in `window`
    seconds. Kept in the web process's memory: one console process (a second process counts
    apart; a restart starts again)."""

    def __init__(self, attempts: int = 5, window: float = 900.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
