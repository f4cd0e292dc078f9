"""Privacy: 1,000 questions carry generated BSNs (valid under the eleven-test) and
V-numbers, in the subject and the text, in the ways people write them. After `run` has
triaged and forwarded them, none of those numbers is left in the database (every table,
every column), in the worker's log lines, or in the digest, the weekly report and the
backlog the product writes. (The forwards themselves carry the original question: that is
their job.) The one exception is the raw original of a question that waits for a person
(review or quarantine), kept to forward it as received: once a person assigns it, it is
gone too.
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import LargeBinary, MetaData, select

from bot.cli.commands import main
from tests.bsn import invented
from tests.reliability.harness import (
    SAMPLE,
    Database,
    Worker,
    deliver_to_maildir,
    log_lines,
    maildir_box,
    make_maildir,
    wait_for,
    write_config,
    write_summary,
)

SEED = 8
COUNT = 1000


def make_bsn(rng: random.Random) -> str:
    """Nine digits that pass the eleven-test (tests/bsn.py, apart from the product's)."""
    return invented(rng)


def make_v_number(rng: random.Random) -> str:
    return str(rng.randint(10**9, 10**10 - 1))


def written_bsn(bsn: str, rng: random.Random) -> str:
    shape = rng.choice(["plain", "4-2-3 dots", "3-3-3 spaces", "3-3-3 dots"])
    return {"plain": bsn, "4-2-3 dots": f"{bsn[:4]}.{bsn[4:6]}.{bsn[6:]}",
            "3-3-3 spaces": f"{bsn[:3]} {bsn[3:6]} {bsn[6:]}", "3-3-3 dots": f"{bsn[:3]}.{bsn[3:6]}.{bsn[6:]}"}[shape]


def bsn_phrase(bsn: str, rng: random.Random) -> str:
    written = written_bsn(bsn, rng)
    return rng.choice([f"BSN {written}", f"burgerservicenummer: {written}", f"bsn-nummer {written}",
                       f"BSN is {written}", f"het kind, {bsn},"])


def v_phrase(v: str, rng: random.Random) -> str:
    return rng.choice([f"V-nummer {v}", f"v-nr. {v}", f"vreemdelingennummer: {v[:2]} {v[2:6]} {v[6:]}",
                       f"V-nummer is {v[:4]}.{v[4:7]}.{v[7:]}", f"(V {v})"])


def questions(rng: random.Random, when: datetime) -> tuple[list[tuple[str, bytes]], set[str]]:
    """COUNT questions from the sample's labelled texts with personal data added; and the numbers."""
    records = [json.loads(line) for line in (SAMPLE / "labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    secrets: set[str] = set()
    out = []
    for n in range(COUNT):
        record = records[n % len(records)]
        bsn, bsn2, v = make_bsn(rng), make_bsn(rng), make_v_number(rng)
        secrets |= {bsn, bsn2, v}
        subject = record["subject"]
        if rng.random() < 0.3:
            subject += rng.choice([f" - BSN {bsn}", f" (V-nr {v})", f" {bsn2}"])
        paragraphs = record["body"].split("\n\n")
        facts = (f"Het gaat om {bsn_phrase(bsn, rng)} en de moeder met {bsn_phrase(bsn2, rng)}; "
                 f"{v_phrase(v, rng)}.")
        paragraphs.insert(min(1, len(paragraphs)), facts)
        text = "\n\n".join(paragraphs)
        msg = EmailMessage()
        msg["From"] = record.get("from") or "jurist@ind.example"
        msg["To"] = "bvhk@ind.example"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when + timedelta(minutes=n))
        message_id = f"<privacy-{n:05d}@test.example>"
        msg["Message-ID"] = message_id
        msg.set_content(text)
        if rng.random() < 0.3:
            msg.add_alternative("".join(f"<p>{p}</p>" for p in text.split("\n\n")), subtype="html")
        out.append((message_id, msg.as_bytes().replace(b"\r\n", b"\n")))
    return out, secrets


# Digits no person wrote: a hex digest (hashes, fingerprints) and the decimals of a number with
# more of them than any way of writing a BSN or V-number has (a model's confidence, 0.98403638...).
# By chance these hold some nine-digit number: one run's 3,000 stored confidences held a number of
# 13 of 400 random sets of secrets, so leaving them in made the test fail in about 3% of its runs.
_MACHINE_MADE = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{32,}(?![0-9a-fA-F])|\d+\.\d{6,}(?:e[-+]?\d+)?")


def leaks(text: str, secrets: set[str]) -> set[str]:
    """The secrets in `text`, however written: every run of digits (spaces, dots and dashes
    between them ignored) is searched for each number; digits no person wrote are passed over."""
    found = set()
    for run in re.findall(r"\d(?:[ .\-]?\d)+", _MACHINE_MADE.sub(" ", text)):
        digits = re.sub(r"\D", "", run)
        for size in (9, 10):
            for start in range(len(digits) - size + 1):
                if digits[start:start + size] in secrets:
                    found.add(digits[start:start + size])
    return found


def database_values(db: Database) -> dict[str, list[str]]:
    """Every value of every table as text (bytes decoded leniently), by "table.column"."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    values: dict[str, list[str]] = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row):
                    if value is None:
                        continue
                    if isinstance(column.type, LargeBinary) or isinstance(value, bytes):
                        value = bytes(value).decode("utf-8", "replace")
                    values.setdefault(f"{table.name}.{column.name}", []).append(str(value))
    return values


def waiting_for_a_person(db: Database) -> list[str]:
    """The kenmerk of every question whose raw original is kept (review or quarantine)."""
    with db.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql(
            "SELECT q.triage_id FROM question q JOIN original o ON o.question_id = q.id")]


def written_text(folder: Path) -> str:
    """The text of every file under `folder`; a workbook is read as its XML parts."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                parts += [book.read(name).decode("utf-8", "replace") for name in book.namelist()]
        elif path.is_file() and path.suffix != ".png":
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_no_bsn_or_v_number_is_left_in_database_logs_or_reports(tmp_path, models):
    rng = random.Random(SEED)
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=7)
    messages, secrets = questions(rng, when)
    assert all(leaks(raw.decode("utf-8", "replace"), secrets) for _, raw in messages[:50])  # the finder finds them
    number = min(secrets)
    assert not leaks(f"0.{number}7 3f{number}{'a0' * 14} 0.12{number}e-05", secrets)  # digits no person wrote
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, messages)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=None, mailboxes=[maildir_box("ind", maildir)],
                          deidentify="deduce")
    db = Database(url)
    log = tmp_path / "worker.log"
    worker = Worker(config, log)
    try:
        worker.start()
        wait_for(lambda: db.done(COUNT), timeout=240, interval=0.5, what="every question handled")
        assert worker.stop() == 0
    finally:
        worker.ensure_gone()
    forwarded = len(list((tmp_path / "outbox").glob("*/new/*")))

    runner = CliRunner()
    out = tmp_path / "written"
    week = f"{when.isocalendar().year}-W{when.isocalendar().week:02d}"
    outputs = [runner.invoke(main, ["--config", str(config), *args])
               for args in (["digest", "--dry-run", "--out", str(out / "digest")],
                            ["report", "--week", week, "--dry-run", "--out", str(out / "report")],
                            ["backlog", "--json"])]
    assert [r.exit_code for r in outputs] == [0, 0, 0], [r.output[-300:] for r in outputs]

    values = database_values(db)
    stored = "\n".join(v for column, texts in values.items() if column != "original.raw" for v in texts)
    logged = log.read_text(encoding="utf-8")
    reported = written_text(out) + "\n".join(r.output for r in outputs)
    found = {"database": leaks(stored, secrets), "logs": leaks(logged, secrets), "reports": leaks(reported, secrets)}
    waiting = waiting_for_a_person(db)
    in_originals = leaks("\n".join(values.get("original.raw", [])), secrets)
    # a person assigns every waiting question: its original goes out, and out of the database
    assigned = [runner.invoke(main, ["--config", str(config), "assign", kenmerk, "s.verbeek@ind.example",
                                     "--reason", "test"]) for kenmerk in waiting]
    after = database_values(db)
    db.close()
    found["database_after_assign"] = leaks("\n".join(v for texts in after.values() for v in texts), secrets)
    write_summary("redaction", {"messages": COUNT, "numbers": len(secrets), "forwarded": forwarded,
                                "log_lines": len(log_lines(log)), "report_files": len(list(out.rglob("*.*"))),
                                "database_chars": len(stored), "waiting_originals": len(waiting),
                                "numbers_in_waiting_originals": len(in_originals)}
                  | {f"left_in_{k}": len(v) for k, v in found.items()})

    assert forwarded >= 0.9 * COUNT
    assert "[BSN]" in stored and "[VNUMMER]" in stored  # the text is kept, redacted
    # the leak check below read real output: the report in every format, and a digest per format
    assert {f.suffix for f in (out / "report").iterdir()} == {".html", ".txt", ".xlsx", ".png"}
    assert {f.suffix for f in (out / "digest").iterdir()} == {".html", ".txt"}
    assert [r.exit_code for r in assigned] == [0] * len(waiting), [r.output[-300:] for r in assigned]
    assert "original.raw" not in after
    columns = {**{f"{column} (before assigning)": texts for column, texts in values.items()}, **after}
    where = {column: sorted(left) for column, texts in columns.items()  # where numbers (synthetic) were left
             if not column.startswith("original.raw") and (left := leaks("\n".join(texts), secrets))}
    assert found == {"database": set(), "logs": set(), "reports": set(), "database_after_assign": set()}, where
