"""End to end on the embedded default: a Maildir in, forwards in the contact persons'
outboxes, rows in the backlog, a digest out. Real .eml files, the real CLI."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main

from tests.paths import FIXTURES

E2E = FIXTURES / "e2e"


def deliver(maildir: Path, name: str, raw: bytes) -> None:
    """Put a message into a Maildir the way an MTA does (tmp, then new)."""
    (maildir / "tmp" / name).write_bytes(raw)
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def make_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def setup(tmp_path, models):
    maildir = make_maildir(tmp_path / "mail" / "ind")
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[storage]
url = "sqlite:///db.sqlite3"

[[mailboxes]]
name = "ind"
organisation = "IND"
address = "bvhk@ind.example"
kind = "maildir"
path = "mail/ind"

[delivery]
kind = "outbox"
from = "bvhk-triage@bvhk.example"
path = "outbox"

[routing]
contacts = "{E2E / 'contacts.csv'}"

[classifier]
models = "models"
min_confidence = 0.2

[parsing]
max_bytes = 200000
""",
        encoding="utf-8",
    )
    return tmp_path, maildir, config


def run(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def outbox_messages(root: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((root / "outbox").glob("*/new/*"))
    ]


def test_mailbox_to_outbox_and_backlog(setup):
    root, maildir, config = setup
    for i, eml in enumerate(sorted(E2E.glob("*.eml")), start=1):
        deliver(maildir, f"{1763280000 + i}.{i}.test", eml.read_bytes())
    deliver(maildir, f"{1763280000 + 50}.50.test", b"Subject: groot\r\n\r\n" + b"x" * 300_000)

    result = run(config, "poll", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fetched"] == 7
    assert report["triaged"] == 3
    assert report["routed"] == 3 and report["needs_review"] == 0  # three clear questions, a contact person each
    assert report["skipped"]["auto_reply"] == 1
    assert report["skipped"]["bounce"] == 1
    assert report["skipped"]["duplicate"] == 1
    assert report["quarantined"] == 1  # the oversized one; the rest of the batch went on
    assert report["delivered"] == report["routed"] + 1  # and the reviewer is told of the quarantined one

    mails = outbox_messages(root)
    forwards = [m for m in mails if m["X-BvhK-Triage-Original"]]
    [notice] = [m for m in mails if not m["X-BvhK-Triage-Original"]]
    assert notice["To"] == "coordinatie@ind.example" and "quarantaine" in notice["Subject"]
    assert "Reden:   bericht groter dan 0,2 MB" in notice.get_content()
    assert len(forwards) == 3
    assignees = {f["X-BvhK-Triage-Original"]: f["To"].addresses[0].addr_spec for f in forwards}
    assert assignees == {
        "<e2e-0001@rvdk.example>": "d.visser@ind.example",  # OTS question from Overijssel: IND Zwolle
        "<e2e-0002@ind.example>": "a.bakker@ind.example",  # strafrecht, Den Haag: fewest open, first by name
        "<e2e-0003@coa.example>": "d.visser@ind.example",  # voogdij in Zwolle's region
    }
    for forward in forwards:
        assert forward["X-BvhK-Triage"]
        assert forward["In-Reply-To"] == forward["X-BvhK-Triage-Original"]
        assert forward["X-BvhK-Triage-Original"] in forward["References"]
        summary = forward.get_body(("plain",)).get_content()
        assert "Thema:" in summary and "Waarom u:" in summary and "Antwoord vóór:" in summary
        attached = [part for part in forward.iter_attachments() if part.get_content_type() == "message/rfc822"]
        assert len(attached) == 1
        recipient_dir = Path(forward["To"].addresses[0].addr_spec.lower())
        assert (root / "outbox" / recipient_dir).is_dir()

    backlog = json.loads(run(config, "backlog", "--json").stdout)
    routed_ids = {row["triage_id"] for row in backlog if row["status"] == "routed"}
    assert routed_ids == {f["X-BvhK-Triage"] for f in forwards}
    for row in backlog:
        assert row["due_on"] and row["age_days"] is not None
        if row["status"] == "routed":
            assert row["assignee"]


def test_second_poll_sends_nothing_twice_and_own_forward_is_skipped(setup):
    root, maildir, config = setup
    for i, eml in enumerate(sorted(E2E.glob("0[1-3]*.eml")), start=1):
        deliver(maildir, f"{1763280000 + i}.{i}.test", eml.read_bytes())
    first = json.loads(run(config, "poll", "--json").stdout)
    assert first["routed"] == 3 and first["delivered"] == 3
    before = sorted(p.name for p in (root / "outbox").glob("*/new/*"))

    again = json.loads(run(config, "poll", "--json").stdout)
    assert again["fetched"] == 0 and again["delivered"] == 0
    assert sorted(p.name for p in (root / "outbox").glob("*/new/*")) == before

    # one of our own forwards lands back in the shared mailbox (a contact person forwarded it there)
    forward = next((root / "outbox").glob("*/new/*")).read_bytes()
    deliver(maildir, f"{1763290000}.99.test", forward)
    third = json.loads(run(config, "poll", "--json").stdout)
    assert third["fetched"] == 1
    assert third["skipped"]["own_message"] == 1
    assert third["delivered"] == 0


def test_classify_json_has_every_contract_field(setup):
    _root, _maildir, config = setup
    result = run(config, "classify", str(E2E / "01-vraag-ots.eml"), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["screen"] == "question"
    for key in ("theme", "organisation", "region"):
        assert set(doc[key]) == {"label", "confidence"}
        assert 0.0 <= doc[key]["confidence"] <= 1.0
    assert doc["theme"]["label"] == "kinderbeschermingsmaatregelen"
    assert doc["region"]["label"] == "Zwolle"  # IND location for a place in Overijssel
    assert doc["explanation"]
    assert set(doc["route"]) >= {"assignee", "rule", "reason"}
    assert doc["route"]["assignee"] == "d.visser@ind.example"
    assert doc["route"]["rules_hit"] == ["toewijzing"]
    assert set(doc["route"]["rules_missed"]) == {"spoed", "voorlichting-naar-coordinator", "zekerheid"}
    # nothing was stored: the database was never created
    assert not (config.parent / "db.sqlite3").exists()


def test_classify_screens_automatic_reply(setup):
    _root, _maildir, config = setup
    doc = json.loads(run(config, "classify", str(E2E / "04-afwezig.eml"), "--json").stdout)
    assert doc["screen"] == "auto_reply"
    assert doc["route"] is None


def test_broken_config_is_exit_2_with_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nurl = "sqlite:///x"\n[delivery]\nkind = "pigeon"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "poll"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"bvhk-triage: {config}:4: sleutel 'delivery.kind'")
