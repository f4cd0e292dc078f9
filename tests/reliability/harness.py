"""What the reliability tests share: real worker processes, realistic mail, an SMTP server
that records what arrives, and the accounting that says nothing was lost or sent twice.

- Mail: the sample mailbox (bot/sample/mailbox/*/cur/*), cycled, each copy with a new
  Message-ID, so the worker sees the real mix (HTML, attachments, automatic replies,
  bounces) without recognising copies as duplicates.
- Workers: `bvhk-triage --log-json --config … run` (or `poll`) as child processes, killed
  with SIGKILL or stopped with SIGTERM; their stderr goes to a log file per test.
- `SmtpSink`: aiosmtpd on a fixed port that can go down and come back; it can also drop the
  connection after storing a message, before answering (an unknown outcome for the sender).
- `account`: every item of the mailboxes stored once; every stored delivery received at the
  SMTP server under its Message-ID, once per question and recipient (counted by
  X-BvhK-Triage-Original); a second copy with the same Message-ID is a recognisable resend.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine, open_database
from tests.servers import PASSWORD, Received, spare_port, wait_for_port

from tests.paths import ROOT
SAMPLE = ROOT / "bot" / "sample"
BIN = Path(sys.executable).parent / "bvhk-triage"
TEST_OUTPUT = ROOT / "test-output"
IMAP_PASSWORD_ENV = "BVHK_TEST_IMAP_PASSWORD"
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*")


# --- mail -------------------------------------------------------------------------------------
def sample_files() -> list[Path]:
    return sorted(SAMPLE.glob("mailbox/*/cur/*"))


def with_message_id(raw: bytes, message_id: str) -> bytes:
    """`raw` (LF line ends, as in the sample) with its Message-ID header replaced or added."""
    line = f"Message-ID: {message_id}\n".encode()
    head, sep, body = raw.partition(b"\n\n")
    head += b"\n"
    head = _MESSAGE_ID.sub(line, head, count=1) if _MESSAGE_ID.search(head) else line + head
    return head[:-1] + sep + body


def sample_messages(count: int, *, tag: str, start: int = 0) -> list[tuple[str, bytes]]:
    """`count` realistic messages (Message-ID, raw), cycling through the sample mailbox."""
    files = sample_files()
    out = []
    for n in range(start, start + count):
        message_id = f"<rel-{tag}-{n:05d}@test.example>"
        out.append((message_id, with_message_id(files[n % len(files)].read_bytes(), message_id)))
    return out


def make_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def deliver_to_maildir(maildir: Path, messages: list[tuple[str, bytes]], *, first: int = 0,
                       at_once: bool = False) -> None:
    """As an MTA does: write in tmp/, rename into new/; keys sort in arrival order.
    `at_once`: all messages appear in an empty new/ in one rename (of a folder onto it), so
    a poll sees none of them or all, never the part written so far."""
    arriving = maildir / "arriving"
    if at_once:
        arriving.mkdir()
    for n, (_, raw) in enumerate(messages, start=first):
        name = f"{1_800_000_000 + n}.{n:06d}.reliability"
        (maildir / "tmp" / name).write_bytes(raw)
        (maildir / "tmp" / name).rename((arriving if at_once else maildir / "new") / name)
    if at_once:
        arriving.rename(maildir / "new")  # rename(2) replaces an empty folder in one step


# --- configuration --------------------------------------------------------------------------------
def write_config(folder: Path, *, url: str, mailboxes: list[dict], smtp_port: int | None, models: Path,
                 schedule: dict | None = None, delivery: dict | None = None, extra: str = "",
                 deidentify: str = "patterns") -> Path:
    """A config for one test: the given mailboxes, SMTP to 127.0.0.1 (or a local outbox).

    Names are found by patterns unless `deidentify="deduce"`: deduce adds some 10 s and
    1.1 GB to every worker start, which tests of delivery under kills and of several workers
    would measure instead of delivery. The privacy tests run with deduce, as shipped."""

    def table(values: dict) -> str:
        return "".join(f"{k} = {json.dumps(v) if not isinstance(v, Path) else json.dumps(str(v))}\n"
                       for k, v in values.items())

    boxes = "".join(f"[[mailboxes]]\n{table(m)}\n" for m in mailboxes)
    send = ({"kind": "smtp", "host": "127.0.0.1", "port": smtp_port, "tls": "none", "timeout_seconds": 5}
            if smtp_port else {"kind": "outbox", "path": "outbox"})
    send |= {"from": "bvhk-triage@bvhk.example", "retry_seconds": 1} | (delivery or {})
    plan = {"poll_seconds": 1, "heartbeat_seconds": 2} | (schedule or {})
    config = folder / "config.toml"
    config.write_text(
        f"[storage]\nurl = {json.dumps(url)}\n\n{boxes}[delivery]\n{table(send)}\n"
        f"[routing]\ncontacts = {json.dumps(str(SAMPLE / 'contacts.csv'))}\n\n"
        f"[classifier]\nmodels = {json.dumps(str(models))}\nmin_confidence = 0.2\n\n"
        f"[schedule]\n{table(plan)}\n[privacy]\ndeidentify = {json.dumps(deidentify)}\n\n{extra}",
        encoding="utf-8",
    )
    return config


def maildir_box(name: str, path: Path, organisation: str = "IND") -> dict:
    return {"name": name, "organisation": organisation, "address": f"bvhk@{name}.example", "kind": "maildir",
            "path": path}


def fill_imap(dovecot, user: str, messages: list[tuple[str, bytes]]) -> None:
    """Append to the user's INBOX; make the Sent folder reply detection reads."""
    dovecot.append(user, [raw for _, raw in messages])
    dovecot.append(user, [], folder="Sent")


def imap_box(name: str, dovecot, user: str, organisation: str = "DT&V") -> dict:
    return {"name": name, "organisation": organisation, "address": f"bvhk@{name}.example", "kind": "imap",
            "host": "127.0.0.1", "port": dovecot.port, "tls": "none", "username": user,
            "password_env": IMAP_PASSWORD_ENV, "folder": "INBOX", "sent_folder": "Sent"}


# --- worker processes -----------------------------------------------------------------------------
class Worker:
    """One `bvhk-triage` process; stderr (JSON log lines) appended to `log`."""

    def __init__(self, config: Path, log: Path, *, command: tuple[str, ...] = ("run",),
                 env: dict[str, str] | None = None) -> None:
        self.config, self.log, self.command = config, log, command
        self.env = os.environ | {IMAP_PASSWORD_ENV: PASSWORD} | (env or {})
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [str(BIN), "--log-json", "--config", str(self.config), *self.command],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=self.env,
                cwd=self.config.parent)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait: a clean stop finishes the current message and exits 0."""
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def ensure_gone(self) -> None:
        if self.alive:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def running(workers: list[Worker]) -> Iterator[list[Worker]]:
    """The workers started; whatever happens in the block, none is left running after it."""
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.ensure_gone()


def log_lines(log: Path) -> list[dict]:
    """The JSON log lines of a log file (anything else is a failure of --log-json)."""
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            lines.append(json.loads(line))
    return lines


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")


# --- the database as the test sees it -------------------------------------------------------------
@dataclass
class Database:
    url: str
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        open_database(self.url).dispose()  # the schema, as a worker would make it
        self.engine = make_engine(self.url)

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def heartbeat_pids(self) -> set[int]:
        return {row[0] for row in self.rows("SELECT pid FROM heartbeat")}

    def handled(self) -> int:
        """Mailbox items stored: questions, skips and mail in quarantine (each is a question row)."""
        return self.scalar("SELECT count(*) FROM question")

    def waiting(self) -> int:
        return self.scalar("SELECT count(*) FROM delivery WHERE status = 'pending'")

    def done(self, items: int) -> bool:
        return self.handled() >= items and self.waiting() == 0

    def close(self) -> None:
        self.engine.dispose()


# --- the SMTP server --------------------------------------------------------------------------------
class SmtpSink:
    """aiosmtpd on a fixed port on 127.0.0.1; `stop`/`start` take it down and bring it back.

    `drop_next = n`: the next n messages are stored and then the connection is closed
    before the answer, as when a connection breaks after DATA."""

    def __init__(self) -> None:
        self.port = spare_port()
        self.received: list[Received] = []
        self.drop_next = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content,
                                          None))
            drop = self.drop_next > 0
            if drop:
                self.drop_next -= 1
                self.dropped += 1
        if drop:
            server.transport.close()
        return "250 OK"

    def start(self) -> "SmtpSink":
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        assert wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)


# --- the accounting ----------------------------------------------------------------------------------
@dataclass
class Accounting:
    items: int  # put into the mailboxes
    stored: int  # mailbox items in the database
    quarantined: int
    questions: int
    routed: int
    review: int
    deliveries: int  # stored forwards: to the contact person, copies, to the reviewer, follow-ups
    not_sent: int  # deliveries pending or failed at the end
    received: int  # messages the SMTP server accepted
    lost: list  # (original, recipient) stored but never received
    duplicates: list  # (original, recipient) received under more than one Message-ID, or unasked
    resends: int  # extra copies with the same Message-ID (after an unknown outcome)
    missing_items: list  # Message-IDs put in a mailbox and never stored

    def as_dict(self) -> dict:
        return {k: (len(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}


def account(db: Database, sink: SmtpSink, message_ids: list[str]) -> Accounting:
    stored_ids = {row[0] for row in db.rows("SELECT message_id FROM question")}
    expected: dict[tuple[str, str], str] = {}
    for original, recipient, message_id in db.rows(
            "SELECT q.message_id, d.recipient, d.message_id FROM delivery d JOIN question q ON q.id = d.question_id "
            "WHERE d.purpose IN ('forward', 'copy', 'review', 'follow_up')"):
        expected[(original, recipient.lower())] = message_id
    got: dict[tuple[str, str], Counter] = defaultdict(Counter)
    headers = BytesHeaderParser()
    received = sink.messages()
    for message in received:
        head = headers.parsebytes(message.data)
        original = head.get("X-BvhK-Triage-Original")
        if original is None:
            continue  # a digest or report, not a forward
        for recipient in message.rcpt_tos:
            got[(original, recipient.lower())][head.get("Message-ID")] += 1
    lost = [key for key in expected if key not in got]
    duplicates = [key for key, ids in got.items() if len(ids) > 1 or key not in expected
                  or next(iter(ids)) != expected[key]]
    resends = sum(count - 1 for ids in got.values() for count in ids.values())
    return Accounting(
        items=len(message_ids),
        stored=db.handled(),
        quarantined=db.scalar("SELECT count(*) FROM question WHERE status = 'quarantine'"),
        questions=db.scalar("SELECT count(*) FROM question WHERE verdict = 'question'"),
        routed=db.scalar("SELECT count(*) FROM question WHERE status = 'routed'"),
        review=db.scalar("SELECT count(*) FROM question WHERE status = 'review'"),
        deliveries=len(expected),
        not_sent=db.scalar("SELECT count(*) FROM delivery WHERE status <> 'sent'"),
        received=len(received),
        lost=lost,
        duplicates=duplicates,
        resends=resends,
        missing_items=sorted(set(message_ids) - stored_ids),
    )


def write_summary(name: str, summary: dict) -> None:
    """Print the figures and keep them in test-output/ for the issue note."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    (TEST_OUTPUT / f"reliability-{name}.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    print(f"\n{name}: {json.dumps(summary, default=str)}")
