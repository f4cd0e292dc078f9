"""Privacy end to end: 200 questions with names (with and without a cue, in lower case),
addresses, postcodes, telephone numbers, BSNs, V-numbers, private sender addresses and
health conditions are polled, corrected, trained on, reported, digested and purged, as an
operator would, with the product's default de-identification (deduce).

Before the purge, none of the names, addresses, postcodes or identifiers is in the database,
the model files (unpacked), the weekly report (HTML, text, the workbook unpacked) or the
digests. Held until the purge, by design: the sender's address of a question (for replies
while it is open), the raw original of a question waiting for a person, and the health
words in the stored question text. After the purge (retention 0 days) none of it is left.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from bot.cli.commands import main
from tests.planted import CATEGORIES, every_secret, questions
from tests.reliability.harness import deliver_to_maildir, make_maildir, maildir_box, write_config, write_summary
from tests.reliability.test_redaction import Database, database_values, written_text

COUNT = 200
NAMES = {"name_cued", "name_uncued", "name_lower"}
HELD_UNTIL_PURGE = {"question.sender": {"email"} | NAMES,  # a private address is often a name
                    "original.raw": set(CATEGORIES), "question.body": {"health"}}


def leaks(text: str, secrets: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per category, the planted strings in `text`: words whole and in any case, numbers in any
    grouping (spaces, dots and dashes between the digits ignored)."""
    found: dict[str, set[str]] = {}
    digits = re.sub(r"(?<=\d)[ .\-](?=\d)", "", text)
    lowered = text.lower()
    for category, values in secrets.items():
        for value in values:
            if category in ("bsn", "v_number", "phone"):
                number = re.sub(r"\D", "", value)
                number = "0" + number[2:] if value.startswith("+31") else number
                hit = number in digits
            else:
                hit = re.search(rf"(?<![\w@.]){re.escape(value.lower())}(?![\w@])", lowered) is not None
            if hit:
                found.setdefault(category, set()).add(value)
    return found


def model_text(models: Path) -> str:
    parts = []
    for path in sorted(models.rglob("*")):
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as packed:
                parts += [packed.read(name).decode("utf-8", "replace") for name in packed.namelist()]
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_planted_personal_data_stays_out_of_everything_the_product_keeps_or_shows(tmp_path):
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    planted = questions(COUNT, when=when)
    secrets = every_secret(planted)
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, [(p.message_id, p.raw) for p in planted])
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=tmp_path / "models", smtp_port=None,
                          mailboxes=[maildir_box("ind", maildir)], deidentify="deduce")
    config.write_text(config.read_text().replace("[storage]\n", "[storage]\nbody_retention_days = 0\n"))
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output[-500:]
        return result.output

    run("poll")
    db = Database(url)
    with db.engine.connect() as conn:
        kenmerken = [row[0] for row in conn.exec_driver_sql(
            "SELECT triage_id FROM question WHERE status IN ('routed', 'review') ORDER BY id LIMIT 40")]
        handled = conn.exec_driver_sql("SELECT count(*) FROM question").scalar()
    assert handled == COUNT
    for n, kenmerk in enumerate(kenmerken):  # corrections by a contact person
        run("feedback", kenmerk, "--theme", ("voogdij", "dublin-en-nareis")[n % 2], "--by", "s.verbeek@ind.example")
    run("train")
    run("poll")  # sends what the corrections routed
    week = f"{when.isocalendar().year}-W{when.isocalendar().week:02d}"
    out = tmp_path / "written"
    shown = "\n".join([run("report", "--week", week, "--dry-run", "--out", str(out / "report")),
                       run("digest", "--dry-run", "--out", str(out / "digest")), run("backlog", "--json")])
    assert {f.suffix for f in (out / "report").iterdir()} >= {".html", ".txt", ".xlsx"}
    assert any((out / "digest").iterdir())

    values = database_values(db)
    found = {"models": leaks(model_text(tmp_path / "models"), secrets),
             "reports": leaks(written_text(out) + shown, secrets)}
    for column, texts in values.items():
        held = HELD_UNTIL_PURGE.get(column, set())
        for category, hits in leaks("\n".join(texts), secrets).items():
            if category not in held:
                found.setdefault(f"database {column}", {})[category] = hits
    before = {where: {c: len(v) for c, v in hits.items()} for where, hits in found.items() if hits}

    run("purge")
    db.engine.dispose()
    after = leaks("\n".join(v for texts in database_values(db).values() for v in texts)
                  + model_text(tmp_path / "models"), secrets)
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("db.sqlite3*")).decode("utf-8", "replace")
    after_on_disk = leaks(on_disk, secrets)
    db.close()
    write_summary("privacy", {"questions": COUNT, "corrections": len(kenmerken),
                              "planted": {c: len(v) for c, v in secrets.items()},
                              "left_before_purge": before, "left_after_purge": {c: len(v) for c, v in after.items()},
                              "left_in_file_after_purge": {c: len(v) for c, v in after_on_disk.items()}})
    assert before == {}, {where: {c: sorted(v)[:5] for c, v in hits.items()} for where, hits in found.items() if hits}
    assert after == {} and after_on_disk == {}, (after, after_on_disk)
