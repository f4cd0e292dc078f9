"""The `imap` kind: any IMAP4rev1 server (Exchange, Dovecot), read without changing a thing.

Folders are opened read-only (EXAMINE) and bodies fetched with BODY.PEEK, so nothing is
marked read. The cursor is `UIDVALIDITY:UID:HIGHESTMODSEQ:DATE`: the folder's
UIDVALIDITY, the last UID handled, the folder's HIGHESTMODSEQ once everything up to that
UID was handed out (0 without CONDSTORE or in the middle of a batch) and the INTERNALDATE
day of that message. A poll begins with one STATUS: when HIGHESTMODSEQ is unchanged, or
UIDNEXT says no UID came after ours, there is nothing to do, whatever the size of the
folder. A changed UIDVALIDITY means every UID changed: the folder is read again from two
days before the last message handled, and the items are named by their Message-ID, so
what was handled before is recognised and skipped by the worker (de-duplication by
Message-ID). Keywords (marks) are added with STORE +FLAGS; a move only with `move_to`.
The keywords people set are read back from a cursor of their own, `UIDVALIDITY:MODSEQ`
(`changed_marks`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from bot.ingest.mailboxes.base import (
    Fetched,
    MailboxError,
    Marked,
    PushUnavailable,
    message_id_of,
    network_error,
    tls_context,
)

log = logging.getLogger(__name__)

BATCH = 25  # messages per FETCH
RESYNC_DAYS = 2  # a resync re-reads from this many days before the last message handled
TIMEOUT = 30.0
IDLE_SECONDS = 25 * 60  # RFC 2177: end and renew IDLE well within the servers' 29-minute limit
MARKS_RECENT = 500  # without CONDSTORE, or on a first read: the keywords of this many newest items
SENT_HEADERS = "MESSAGE-ID IN-REPLY-TO REFERENCES DATE FROM TO CC X-BVHK-TRIAGE AUTO-SUBMITTED"
_KEYWORD_BAD = set('(){%*"\\] ') | {chr(c) for c in range(32)} | {chr(127)}


@dataclass(frozen=True, slots=True)
class ImapCursor:
    uidvalidity: int = 0
    uid: int = 0
    modseq: int = 0
    day: date | None = None

    def encode(self) -> str:
        return f"{self.uidvalidity}:{self.uid}:{self.modseq}:{self.day.isoformat() if self.day else ''}"

    @classmethod
    def decode(cls, text: str) -> "ImapCursor":
        if not text:
            return cls()
        try:
            validity, uid, modseq, day = text.split(":")
            return cls(int(validity), int(uid), int(modseq), date.fromisoformat(day) if day else None)
        except ValueError:
            raise MailboxError(f"opgeslagen IMAP-cursor '{text[:40]}' is onleesbaar") from None


@dataclass(frozen=True, slots=True)
class _Status:
    uidvalidity: int
    uidnext: int
    modseq: int


def keyword(label: str) -> str:
    """An IMAP keyword (a flag atom) for a label: ASCII, no spaces or specials."""
    text = "".join("_" if ch in _KEYWORD_BAD or ord(ch) > 126 else ch for ch in label)
    return text.strip("_")[:100] or "BvhK"


class ImapMailbox:
    can_mark = True

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        tls: str,
        username: str,
        password: str,
        folder: str = "INBOX",
        sent_folder: str = "Sent",
        verify_certificate: bool = True,
        ca_file: Path | None = None,
        move_to: str = "",
        since: date | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.name = name
        self.where = f"IMAP {host}:{port}"
        self._host, self._port, self._tls = host, port, tls
        self._username, self._password = username, password
        self.folder, self.sent_folder, self.move_to = folder, sent_folder, move_to
        self._verify, self._ca_file, self._since, self._timeout = verify_certificate, ca_file, since, timeout
        self._client: IMAPClient | None = None
        self._selected: tuple[str, bool] | None = None
        self._uids: dict[str, int] = {}  # source id -> UID of inbox items read in this session
        self._seen_uidnext: int | None = None  # wait_for_new: the inbox's UIDNEXT when last looked

    @classmethod
    def from_config(cls, config) -> "ImapMailbox":
        from bot.settings import secret

        return cls(
            name=config.name, host=config.host, port=config.port, tls=config.tls,
            username=config.username, password=secret(config.password_env, key="password_env"),
            folder=config.folder, sent_folder=config.sent_folder,
            verify_certificate=config.verify_certificate, ca_file=config.ca_file,
            move_to=config.move_to, since=config.since,
        )

    # --- the interface ---------------------------------------------------------------------
    def fetch(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.folder, cursor, headers_only=False)

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.sent_folder, cursor, headers_only=True)

    def mark(self, source_id: str, labels: Sequence[str]) -> None:
        uid = self._uid_of(source_id)
        with self._errors(self.folder):
            self._select(self.folder, readonly=False)
            if labels:
                self._connection().add_flags([uid], [keyword(label) for label in labels], silent=True)
            if self.move_to:
                self._move(uid)

    def changed_marks(self, cursor: str) -> tuple[list[Marked], str]:
        """Inbox items whose keywords changed since `cursor` (`UIDVALIDITY:MODSEQ`), with all
        their keywords now (items without any are left out), and the cursor to store after them.
        CONDSTORE: `UID SEARCH MODSEQ modseq+1` (RFC 7162; the same items as FETCH 1:* CHANGEDSINCE,
        whose answer imapclient drops for a range), then their FLAGS; without it, on a first
        read or after a UIDVALIDITY change: the FLAGS of the newest MARKS_RECENT items."""
        validity, _, modseq = cursor.partition(":")
        status = self._status(self.folder)
        after = f"{status.uidvalidity}:{status.modseq}"
        client = self._connection()
        with self._errors(self.folder):
            self._select(self.folder, readonly=True)
            if status.modseq and modseq.isdigit() and int(modseq) and validity == str(status.uidvalidity):
                if int(modseq) >= status.modseq:
                    return [], after
                uids = sorted(client.search(["MODSEQ", int(modseq) + 1]))
            else:
                uids = sorted(client.search(["ALL"]))[-MARKS_RECENT:]
            flags = client.fetch(uids, ["FLAGS"]) if uids else {}
        keywords = {uid: tuple(f.decode("ascii", "replace") for f in data.get(b"FLAGS", ()) if not f.startswith(b"\\"))
                    for uid, data in flags.items()}  # system flags (\Seen, \Flagged) are no marks
        uids = sorted(uid for uid, marks in keywords.items() if marks)
        marked: list[Marked] = []
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            with self._errors(self.folder):
                data = client.fetch(chunk, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
            for uid in chunk:
                if uid in data:
                    raw = next((v for k, v in data[uid].items() if k.startswith(b"BODY[")), b"") or b""
                    marked.append(Marked(message_id_of(raw) or f"uid:{status.uidvalidity}:{uid}", keywords[uid]))
        return marked, after

    def wait_for_new(self, stop: threading.Event, *, idle_seconds: float = IDLE_SECONDS) -> bool:
        """Wait with IMAP IDLE until mail arrives in the inbox (True), or `stop` is set or
        `idle_seconds` pass (False). Mail that came while nobody was waiting counts too: the
        inbox's UIDNEXT is compared with what the last call saw, and the first call says True (a
read at start costs one STATUS, and nothing that came before it is missed). Give this its own mailbox
        object: the connection stays in IDLE, and IMAPClient is not for two threads."""
        client = self._connection()
        if not client.has_capability("IDLE"):
            raise PushUnavailable(f"{self.where}: server biedt geen IDLE; alleen het gewone ophalen volgens schema")
        with self._errors(self.folder):
            uidnext = client.select_folder(self.folder, readonly=True)[b"UIDNEXT"]
            self._selected = (self.folder, True)
            if uidnext != self._seen_uidnext:  # the first call, or mail that came between two calls
                self._seen_uidnext = uidnext
                return True
            client.idle()
            arrived, deadline = False, time.monotonic() + idle_seconds
            try:
                while not (arrived or stop.is_set() or time.monotonic() > deadline):
                    arrived = any(len(r) > 1 and r[1] == b"EXISTS" for r in client.idle_check(timeout=1.0))
            finally:
                client.idle_done()
            if arrived:
                client.noop()
                self._seen_uidnext = client.folder_status(self.folder, [b"UIDNEXT"])[b"UIDNEXT"]
        return arrived

    def check(self) -> str:
        client = self._connection()
        parts = [f"{self.where} ({self._tls}): aangemeld"]
        for folder in (self.folder, self.sent_folder):
            with self._errors(folder):
                status = client.folder_status(folder, [b"MESSAGES"])
            parts.append(f"{folder} {status[b'MESSAGES']} berichten")
        with self._errors(self.folder):  # PERMANENTFLAGS only tells in read-write mode
            flags = client.select_folder(self.folder, readonly=False).get(b"PERMANENTFLAGS", ())
            self._selected = (self.folder, False)
        parts.append("CONDSTORE" if client.has_capability("CONDSTORE") else "zonder CONDSTORE")
        if self.move_to and not client.folder_exists(self.move_to):
            raise MailboxError(f"{self.where}: map '{self.move_to}' (move_to) bestaat niet")
        parts.append("labels mogelijk" if b"\\*" in flags else "let op: server staat geen labels toe")
        return "; ".join(parts)

    def close(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                pass

    # --- reading ---------------------------------------------------------------------------
    def _read(self, folder: str, cursor_text: str, *, headers_only: bool) -> Iterator[Fetched]:
        cursor = ImapCursor.decode(cursor_text)
        status = self._status(folder)
        if cursor.uidvalidity == status.uidvalidity:
            if status.uidnext <= cursor.uid + 1 or (status.modseq and status.modseq == cursor.modseq):
                return  # nothing new: one STATUS, whatever the size of the folder
            criteria: list = ["UID", f"{cursor.uid + 1}:*"]
        elif cursor.uidvalidity:
            log.info("%s: UIDVALIDITY of folder changed; reading again with de-duplication", self.name)
            start = (cursor.day or date.today()) - timedelta(days=RESYNC_DAYS)
            criteria = ["SINCE", start]
        elif self._since and not headers_only:
            criteria = ["SINCE", self._since]
        else:
            criteria = ["ALL"]
        after = cursor.uid if cursor.uidvalidity == status.uidvalidity else 0
        with self._errors(folder):
            self._select(folder, readonly=True)
            # "UID n:*" also answers the highest UID when there is none above n
            uids = sorted(uid for uid in self._connection().search(criteria) if uid > after)
        part = f"BODY.PEEK[HEADER.FIELDS ({SENT_HEADERS})]" if headers_only else "BODY.PEEK[]"
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            with self._errors(folder):
                self._select(folder, readonly=True)
                data = self._connection().fetch(chunk, [part, "INTERNALDATE"])
            for uid in chunk:
                if uid not in data:
                    continue  # expunged between SEARCH and FETCH
                raw = next((v for k, v in data[uid].items() if k.startswith(b"BODY[")), b"") or b""
                day = data[uid][b"INTERNALDATE"].date()
                last = uid == uids[-1]
                source_id = message_id_of(raw) or f"uid:{status.uidvalidity}:{uid}"
                if not headers_only:
                    self._uids[source_id] = uid
                cursor = ImapCursor(status.uidvalidity, uid, status.modseq if last else 0, day)
                yield Fetched(source_id=source_id, raw=raw, cursor=cursor.encode())

    def _status(self, folder: str) -> _Status:
        client = self._connection()
        condstore = client.has_capability("CONDSTORE")
        items = [b"UIDVALIDITY", b"UIDNEXT"] + ([b"HIGHESTMODSEQ"] if condstore else [])
        with self._errors(folder):
            if self._selected is not None:
                client.noop()  # a server may answer STATUS for the open folder from its stale view
            status = client.folder_status(folder, items)
        return _Status(status[b"UIDVALIDITY"], status[b"UIDNEXT"], status.get(b"HIGHESTMODSEQ", 0))

    # --- marking ---------------------------------------------------------------------------
    def _uid_of(self, source_id: str) -> int:
        if source_id in self._uids:
            return self._uids[source_id]
        if source_id.startswith("uid:"):
            return int(source_id.rsplit(":", 1)[1])
        with self._errors(self.folder):
            self._select(self.folder, readonly=True)
            found = self._connection().search(["HEADER", "Message-ID", source_id])
        if not found:
            raise MailboxError(f"{self.where}: bericht niet meer in map '{self.folder}'")
        return max(found)

    def _move(self, uid: int) -> None:
        client = self._connection()
        if client.has_capability("MOVE"):
            client.move([uid], self.move_to)
        elif client.has_capability("UIDPLUS"):
            client.copy([uid], self.move_to)
            client.add_flags([uid], [b"\\Deleted"], silent=True)
            client.uid_expunge([uid])  # only this message, never others marked \Deleted
        else:
            raise MailboxError(f"{self.where}: server kan niet veilig verplaatsen (geen MOVE of UIDPLUS)")

    # --- the connection --------------------------------------------------------------------
    def _connection(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        try:
            context = tls_context(verify=self._verify, ca_file=self._ca_file) if self._tls != "none" else None
        except ValueError as exc:
            raise MailboxError(str(exc)) from None
        try:
            client = IMAPClient(self._host, port=self._port, ssl=self._tls == "ssl",
                                ssl_context=context, timeout=self._timeout)
        except (OSError, IMAPClientError) as exc:
            raise MailboxError(network_error(exc, self.where)) from None
        try:
            if self._tls == "starttls":
                client.starttls(context)
            client.login(self._username, self._password)
        except LoginError:
            self._drop(client)
            raise MailboxError(f"{self.where}: aanmelden geweigerd (controleer username en password_env)") from None
        except (IMAPClient.AbortError, OSError) as exc:
            self._drop(client)
            raise MailboxError(network_error(exc, self.where)) from None
        except IMAPClientError as exc:
            self._drop(client)
            raise MailboxError(f"{self.where}: {_short(exc)}") from None
        self._client = client
        return client

    def _select(self, folder: str, *, readonly: bool) -> None:
        """EXAMINE to read; SELECT only to mark. Once selected for marking, reading goes on in
        it: BODY.PEEK leaves \\Seen alone either way, and it saves a round trip per message."""
        if self._selected in ((folder, readonly), (folder, False)):
            return
        self._connection().select_folder(folder, readonly=readonly)
        self._selected = (folder, readonly)

    @contextmanager
    def _errors(self, folder: str) -> Iterator[None]:
        """Protocol and network errors inside the block become one MailboxError line."""
        try:
            yield
        except (IMAPClient.AbortError, OSError) as exc:
            self._client, self._selected = None, None
            raise MailboxError(network_error(exc, self.where)) from None
        except IMAPClientError as exc:
            text = _short(exc)
            if any(hint in text.lower() for hint in ("nonexistent", "doesn't exist", "not exist", "unknown mailbox")):
                raise MailboxError(f"{self.where}: map '{folder}' bestaat niet") from None
            raise MailboxError(f"{self.where}: map '{folder}': {text}") from None

    @staticmethod
    def _drop(client: IMAPClient) -> None:
        try:
            client.shutdown()
        except (OSError, IMAPClientError):
            pass


def _short(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:160]
