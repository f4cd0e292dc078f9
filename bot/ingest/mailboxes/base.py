"""The one small interface every mailbox protocol sits behind.

The pipeline never knows which protocol it runs on. A mailbox hands out what is new
since a cursor, without changing the mailbox (the contact persons read the same shared
mailbox in Outlook). The cursor is stored by the caller in the same transaction as the
questions it produced, so a crash re-reads and never skips; an item read twice is
recognised by its `source_id`.

Marking is an optional capability (`can_mark`): an Outlook category or IMAP keyword per
theme and assignee, added next to what people set themselves, never replacing it. A
mailbox moves an item only when its configuration names a `move_to` folder, and never
deletes anything.

More optional capabilities, looked for with getattr: `changed_marks(cursor)` (the marks
people set, read back as corrections: bot.backlog.corrections), `automatic_reply(address)` (a
contact person's out-of-office setting; ews and graph: bot.triage.absence) and
`wait_for_new(stop)` (block until mail arrives, so that `run` reads it at once: IMAP IDLE;
Graph asks its delta link every 30 seconds instead; bot.service.push).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import socket
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit


class MailboxError(Exception):
    """A mailbox cannot be read: one Dutch line, no secrets, no personal data."""


class PushUnavailable(MailboxError):
    """The server cannot tell when mail arrives (no IMAP IDLE): only the scheduled poll reads it."""


@dataclass(frozen=True, slots=True)
class Fetched:
    source_id: str  # the item's id in the mailbox
    raw: bytes  # the RFC 5322 bytes (for sent items: the header block may be all there is)
    cursor: str  # the cursor to store once this item (and all before it) is handled
    conversation_id: str = ""  # the Exchange conversation of the item; "" where the kind has none


@dataclass(frozen=True, slots=True)
class Marked:
    """An inbox item whose marks changed, with all its marks now (IMAP keywords or categories)."""

    source_id: str
    marks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AutomaticReply:
    """A person's automatic-reply (out-of-office) setting: off, on, or on between two moments."""

    status: str  # "disabled" | "enabled" | "scheduled"
    start: datetime | None = None
    end: datetime | None = None

    def covers(self, day: date) -> bool:
        """On for (part of) `day`, a UTC date; a time without a zone is taken as UTC."""
        if self.status == "enabled":
            return True
        if self.status != "scheduled" or self.start is None or self.end is None:
            return False
        begin = datetime.combine(day, time.min, tzinfo=timezone.utc)
        start, end = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (self.start, self.end))
        return start < begin + timedelta(days=1) and end > begin


class Mailbox(Protocol):
    name: str
    can_mark: bool  # False: mark() changes nothing (a read-only kind such as maildir)

    def fetch(self, cursor: str) -> Iterator[Fetched]:
        """Items of the inbox that are new since `cursor` ("" = from the start), oldest first."""

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        """Items of the sent folder new since `cursor`: replies that answer questions."""

    def mark(self, source_id: str, labels: Sequence[str]) -> None:
        """Add `labels` to an inbox item (and move it when configured); raise MailboxError."""

    def check(self) -> str:
        """Connect and say what works in one Dutch line; raise MailboxError if it does not."""

    def close(self) -> None: ...


# --- helpers shared by the kinds ----------------------------------------------------------
_HEADERS = BytesHeaderParser()
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


def message_id_of(raw: bytes) -> str:
    """The Message-ID of raw mail, with angle brackets; "" when it has none that is usable."""
    value = _HEADERS.parsebytes(raw).get("Message-ID", "") or ""
    found = _MESSAGE_ID.search(str(value))
    return found.group(0) if found else ""


def header_block(
    *,
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    date: datetime | None = None,
    sender: str = "",
    recipients: Sequence[str] = (),
) -> bytes:
    """A header-only RFC 5322 block for a sent item whose kind hands out fields, not MIME.

    Reply detection needs no more, and a reply's text is nobody's business here.
    """
    lines = [f"Message-ID: {message_id}"] if message_id else []
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {' '.join(references.split())}")
    if date is not None:
        lines.append(f"Date: {format_datetime(date)}")
    if sender:
        lines.append(f"From: {sender}")
    if recipients:
        lines.append(f"To: {', '.join(recipients)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")


@functools.lru_cache(maxsize=16)
def tls_context(*, verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """Certificate verification on by default; `ca_file` adds CA certificates to trust.
    Built once per setting (loading the CA store costs ~20 ms); SSLContexts are shareable."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError):
            raise ValueError(f"ca_file {ca_file} is geen leesbaar PEM-bestand") from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def requests_verify(*, verify: bool, ca_file: Path | None) -> bool | str:
    """`verify` for requests-based clients: False, True, or the public CAs plus `ca_file`."""
    if not verify:
        return False
    if not ca_file:
        return True
    try:
        return _bundle(Path(ca_file).resolve(), Path(ca_file).stat().st_mtime_ns)
    except OSError:
        raise ValueError(f"ca_file {ca_file} is geen leesbaar PEM-bestand") from None


@functools.cache
def _bundle(ca_file: Path, _mtime: int) -> str:
    """requests takes one bundle file: the public CAs and `ca_file`, removed at exit."""
    import atexit

    import certifi

    extra = ca_file.read_bytes()
    handle, name = tempfile.mkstemp(prefix="bvhk-triage-ca-", suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        out.write(Path(certifi.where()).read_bytes() + b"\n" + extra)
    atexit.register(lambda: Path(name).unlink(missing_ok=True))
    return name


def is_loopback(host: str) -> bool:
    """True when every address `host` stands for is on this machine's loopback interface."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def clear_text_login(config) -> str | None:
    """Why this mailbox would send its credentials unencrypted to another machine, or None.

    IMAP with `tls = "none"`, an EWS `service_endpoint` and a Graph URL with `http://` send a
    password or token as plain text; that is only acceptable to this machine's loopback."""
    if config.kind == "imap" and config.tls == "none" and not is_loopback(config.host):
        return (f"tls = \"none\" zou het wachtwoord onversleuteld naar {config.host} sturen; "
                "gebruik tls = \"ssl\" of \"starttls\"")
    urls = {"ews": ("service_endpoint",), "graph": ("base_url", "authority")}.get(config.kind, ())
    for key in urls:
        url = urlsplit(getattr(config, key) or "")
        if url.scheme == "http" and not is_loopback(url.hostname or ""):
            return (f"{key} met http:// zou de aanmeldgegevens onversleuteld naar {url.hostname} "
                    "sturen; gebruik https://")
    return None


def network_error(exc: BaseException, where: str) -> str:
    """One Dutch line for a connection or TLS failure, without the secrets of the session."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{where}: TLS-certificaat niet vertrouwd ({exc.verify_message}); zie ca_file"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS-fout ({exc.reason or 'handshake mislukt'}); klopt tls/poort?"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: verbinding geweigerd (draait de server, klopt de poort?)"
    if isinstance(exc, socket.gaierror):
        return f"{where}: onbekende hostnaam"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"{where}: geen antwoord (time-out)"
    if isinstance(exc, OSError):
        return f"{where}: niet bereikbaar ({exc.strerror or type(exc).__name__})"
    return f"{where}: verbinding verbroken ({type(exc).__name__})"


def mark_labels(
    config,
    *,
    theme: str | None,
    theme_name: str | None,
    assignee: str | None,
    assignee_name: str | None,
    review: bool,
    quarantine: bool = False,
) -> list[str]:
    """The labels the mailbox's `mark_*` templates give for one question ("" template = none)."""
    values = {
        "theme": theme or "",
        "theme_name": theme_name or theme or "",
        "assignee": assignee or "",
        "assignee_name": assignee_name or assignee or "",
    }
    labels: list[str] = []
    if quarantine:
        labels.append(getattr(config, "mark_quarantine", "").format(**values))
    if theme:
        labels.append(getattr(config, "mark_theme", "").format(**values))
    if review:
        labels.append(getattr(config, "mark_review", "").format(**values))
    elif assignee:
        labels.append(getattr(config, "mark_assignee", "").format(**values))
    return [label.strip() for label in labels if label.strip()]
