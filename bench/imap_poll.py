"""Benchmark: a poll with no new mail against IMAP mailboxes of growing size (not a test).

    .venv/bin/python bench/imap_poll.py [--sizes 1000 20000] [--runs 9] [--json]

Starts a private Dovecot (the one of the tests, tests/servers.py; needs dovecot-imapd),
fills one mailbox per size with that many small questions (IMAP MULTIAPPEND), stores the
cursor as a worker would after handling them all, and then times, median of `--runs`:
- `mailbox`: the imap kind alone: connect, log in, STATUS, log out (`fetch` from the
  stored cursor, which yields nothing);
- `poll`: the whole worker poll (`bot.service.worker.poll`): the inbox, reply detection on the
  sent folder, the database (SQLite) and delivery of nothing.
The claim it checks: the cost of a poll with no new mail does not grow with the mailbox.
It also times, once, what the cursor saves: a UID SEARCH ALL over the folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ingest.mailboxes.imap import ImapCursor, ImapMailbox  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage import repo  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from tests.servers import Dovecot, make_tls_files, start_dovecot  # noqa: E402

BATCH = 500


def question(n: int) -> bytes:
    return (f"From: raadsonderzoeker{n % 97}@rvdk.example\r\nTo: bvhk@ind.example\r\n"
            f"Subject: Vraag {n} over een ondertoezichtstelling\r\nDate: Mon, 05 May 2025 10:00:00 +0200\r\n"
            f"Message-ID: <bench-{n}@rvdk.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Geachte contactpersoon, wij hebben een vraag over verblijf en een kinderbeschermingsmaatregel. " * 8
            + "\r\n").encode()


def fill(server: Dovecot, user: str, size: int) -> None:
    client = server.client(user)
    try:
        client.create_folder("Sent")
        for start in range(0, size, BATCH):
            client.multiappend("INBOX", [question(n) for n in range(start, min(size, start + BATCH))])
    finally:
        client.logout()


def end_cursor(server: Dovecot, user: str, folder: str) -> str:
    """The cursor a worker stores after handling every message of the folder."""
    client = server.client(user)
    try:
        status = client.folder_status(folder, [b"UIDVALIDITY", b"UIDNEXT", b"HIGHESTMODSEQ"])
    finally:
        client.logout()
    return ImapCursor(status[b"UIDVALIDITY"], status[b"UIDNEXT"] - 1, status[b"HIGHESTMODSEQ"], date.today()).encode()


def median_ms(step, runs: int) -> float:
    step()  # warm-up: first connection, imports, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def count_commands(step) -> int:
    """How many IMAP commands `step` sends (imaplib's debug log has one '>' line per command)."""
    import logging

    class Count(logging.Handler):
        sent = 0

        def emit(self, record: logging.LogRecord) -> None:
            Count.sent += record.getMessage().startswith("> ")

    logger = logging.getLogger("imapclient.imaplib")
    handler, level = Count(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        step()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return Count.sent


def config_for(folder: Path, server: Dovecot, user: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///{folder / 'db.sqlite3'}"
[[mailboxes]]
name = "bench"
organisation = "IND"
address = "bvhk@ind.example"
kind = "imap"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user}"
password_env = "BVHK_BENCH_IMAP"
[routing]
contacts = "{ROOT / 'bot' / 'sample' / 'contacts.csv'}"
[classifier]
models = "{folder / 'models'}"
""", encoding="utf-8")
    return path


def measure(server: Dovecot, size: int, runs: int, work: Path) -> dict:
    import os

    from bot.service.worker import Runtime, poll

    user = server.new_user()
    started = time.perf_counter()
    fill(server, user, size)
    filled_s = time.perf_counter() - started
    inbox, sent = end_cursor(server, user, "INBOX"), end_cursor(server, user, "Sent")

    def mailbox_poll() -> None:
        box = ImapMailbox(**server.mailbox_config(user))
        try:
            assert list(box.fetch(inbox)) == []
        finally:
            box.close()

    commands = count_commands(mailbox_poll)

    folder = work / f"size-{size}"
    folder.mkdir()
    os.environ["BVHK_BENCH_IMAP"] = server.password
    runtime = Runtime.start(load_settings(config_for(folder, server, user)))
    with unit_of_work(runtime.engine) as session:
        repo.set_cursor(session, mailbox="bench", value=inbox)
        repo.set_cursor(session, mailbox="bench", folder="sent", value=sent)

    def worker_poll() -> None:
        report = poll(runtime)
        assert report.fetched == 0 and not report.errors, report.as_dict()

    client = server.client(user)
    client.select_folder("INBOX", readonly=True)
    started = time.perf_counter()
    client.search("ALL")
    search_all_ms = round((time.perf_counter() - started) * 1000, 1)
    client.logout()
    result = {"messages": size, "fill_s": round(filled_s, 1), "imap_commands": commands,
              "mailbox_ms": median_ms(mailbox_poll, runs),
              "poll_ms": median_ms(worker_poll, runs), "uid_search_all_ms": search_all_ms}
    runtime.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bvhk-bench-imap-"))
    server = start_dovecot(make_tls_files(work))
    if isinstance(server, str):
        sys.exit(f"imap_poll: {server}")
    try:
        results = [measure(server, size, args.runs, work) for size in args.sizes]
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"poll with no new mail, median of {args.runs} (Dovecot {server.host}:{server.port}, private)")
    print(f"{'messages':>9} {'commands':>9} {'mailbox ms':>11} {'poll ms':>8} {'(SEARCH ALL ms)':>16} {'fill s':>7}")
    for r in results:
        print(f"{r['messages']:>9} {r['imap_commands']:>9} {r['mailbox_ms']:>11} {r['poll_ms']:>8} "
              f"{r['uid_search_all_ms']:>16} {r['fill_s']:>7}")


if __name__ == "__main__":
    main()
