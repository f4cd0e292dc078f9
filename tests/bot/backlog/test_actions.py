"""Nothing falls through the cracks, through the real CLI on a Maildir and the outbox: a
follow-up joins its question and goes to its assignee; a question in review reaches the
reviewer the same poll and is routed by a correction or assigned by hand; an over-size mail is
listed in quarantine and can be handed on unchanged or triaged again with a raised limit."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli.commands import main
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Question
from tests.paths import FIXTURES

E2E = FIXTURES / "e2e"
OTS = (E2E / "01-vraag-ots.eml").read_bytes()


def deliver(maildir: Path, name: str, raw: bytes) -> None:
    (maildir / "tmp" / name).write_bytes(raw)
    (maildir / "tmp" / name).rename(maildir / "new" / name)


@pytest.fixture
def setup(tmp_path, models):
    maildir = tmp_path / "mail" / "ind"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)

    def write(min_confidence: float = 0.2, max_bytes: int = 200_000) -> Path:
        config = tmp_path / "config.toml"
        config.write_text(f"""
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
models = "{models}"
min_confidence = {min_confidence}
[parsing]
max_bytes = {max_bytes}
""", encoding="utf-8")
        return config

    return tmp_path, maildir, write


def cli(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def poll(config: Path) -> dict:
    result = cli(config, "poll", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def outbox(root: Path, to: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((root / "outbox" / to / "new").glob("*"))]


def question(root: Path, message_id: str) -> Question:
    engine = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        found = session.exec(select(Question).where(Question.message_id == message_id)).one()
    engine.dispose()
    return found


def test_the_askers_follow_up_joins_its_question_and_goes_to_its_assignee(setup):
    root, maildir, write = setup
    config = write()
    deliver(maildir, "1.1.t", OTS)
    assert poll(config)["routed"] == 1
    original = question(root, "<e2e-0001@rvdk.example>")
    [first] = outbox(root, original.assignee)
    assert original.triage_id in first["Subject"]
    follow_up = (f"From: \"M. Verbeek\" <m.verbeek@rvdk.example>\r\nTo: bvhk@ind.example\r\n"
                 f"Subject: RE: {first['Subject']}\r\nDate: Wed, 18 Nov 2026 09:00:00 +0100\r\n"
                 f"Message-ID: <vervolg-1@rvdk.example>\r\nIn-Reply-To: <antwoord-x@ind.example>\r\n\r\n"
                 f"Aanvulling: het gaat om een meisje in Deventer, niet in Zwolle.\r\n").encode()
    deliver(maildir, "2.2.t", follow_up)
    report = poll(config)
    assert report["routed"] == 0 and report["skipped"]["follow_up"] == 1  # never a new question for someone else
    mails = outbox(root, original.assignee)
    assert len(mails) == 2
    [sent_on] = [m for m in mails if "vervolg" in m["Subject"]]
    assert original.triage_id in sent_on["Subject"]
    assert "Vervolg op vraag" in sent_on.get_body(("plain",)).get_content()
    joined = question(root, "<vervolg-1@rvdk.example>")
    assert joined.thread_of == original.id
    engine = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        history = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.question_id == original.id))]
    assert "question:follow_up" in history


def test_a_follow_up_reopens_an_answered_question(setup):
    root, maildir, write = setup
    config = write()
    deliver(maildir, "1.1.t", OTS)
    poll(config)
    original = question(root, "<e2e-0001@rvdk.example>")
    CliRunner().invoke(main, ["--config", str(config), "feedback", original.triage_id, "--theme",
                              "kinderbeschermingsmaatregelen"])
    engine = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        q = session.get(Question, original.id)
        q.status = "answered"
        session.add(q)
    deliver(maildir, "2.2.t", b"From: m.verbeek@rvdk.example\r\nTo: bvhk@ind.example\r\nSubject: Nog een vraag\r\n"
            b"Message-ID: <vervolg-2@rvdk.example>\r\nReferences: <e2e-0001@rvdk.example>\r\n\r\nEn de broer?\r\n")
    poll(config)
    assert question(root, "<e2e-0001@rvdk.example>").status == "routed"


def test_a_question_in_review_reaches_the_reviewer_and_a_correction_routes_it(setup):
    root, maildir, write = setup
    config = write(min_confidence=1.0)  # nothing is sure enough: review
    deliver(maildir, "1.1.t", OTS)
    report = poll(config)
    assert report["needs_review"] == 1 and report["delivered"] == 1
    [to_review] = outbox(root, "coordinatie@ind.example")
    assert "ter beoordeling" in to_review["Subject"]
    text = to_review.get_body(("plain",)).get_content()
    assert "bvhk-triage assign" in text and "categorie" in text
    assert [p.get_content_type() for p in to_review.iter_attachments()] == ["message/rfc822"]
    waiting = question(root, "<e2e-0001@rvdk.example>")
    result = cli(config, "feedback", waiting.triage_id, "--theme", "voogdij")
    assert result.exit_code == 0, result.output
    routed = question(root, "<e2e-0001@rvdk.example>")
    assert routed.status == "routed" and routed.assignee and routed.theme == "voogdij"
    assert f"doorgestuurd naar {routed.assignee}" in result.output
    cli(config, "poll")  # the worker sends what the correction stored
    [forwarded] = outbox(root, routed.assignee)
    assert forwarded["X-BvhK-Triage-Original"] == "<e2e-0001@rvdk.example>"


def test_assign_by_hand_sends_the_original_and_is_audited(setup):
    root, maildir, write = setup
    config = write(min_confidence=1.0)
    deliver(maildir, "1.1.t", OTS)
    poll(config)
    waiting = question(root, "<e2e-0001@rvdk.example>")
    refused = cli(config, "assign", waiting.triage_id, "iemand@elders.example")
    assert refused.exit_code == 2 and "geen actieve contactpersoon" in refused.output
    result = cli(config, "assign", waiting.triage_id, "C.Mulder@ind.example", "--reason", "kent de zaak")
    assert result.exit_code == 0, result.output
    assert "1 bericht(en) verzonden" in result.output
    [mail] = outbox(root, "c.mulder@ind.example")
    attached = [p for p in mail.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert attached and attached[0].get_content()["Message-ID"] == "<e2e-0001@rvdk.example>"
    engine = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "question:assign")).one()
        assert entry.detail["assignee"] == "c.mulder@ind.example" and entry.actor
        q = session.get(Question, waiting.id)
        assert (q.status, q.assignee, q.rule) == ("routed", "c.mulder@ind.example", "handmatig")


def test_an_oversize_mail_is_listed_and_can_be_forwarded_or_released(setup):
    root, maildir, write = setup
    config = write(max_bytes=2_000)
    big = OTS.replace(b"Beste contactpersoon,", b"Beste contactpersoon,\n" + b"Bijlage volgt. " * 300)
    deliver(maildir, "1.1.t", big)
    report = poll(config)
    assert report["quarantined"] == 1
    listed = json.loads(cli(config, "quarantine", "list", "--json").stdout)
    [row] = listed
    assert row["reason"].startswith("bericht groter dan") and row["original_kept"] and row["sender_domain"] == "rvdk.example"
    [notice] = outbox(root, "coordinatie@ind.example")
    assert row["triage_id"] in notice["Subject"] and "Bijlage volgt" not in notice.get_content()
    checked = cli(config, "check")
    assert "let op 1 bericht(en) in quarantaine: niet getrieerd (bvhk-triage quarantine list)" in checked.output
    digest = cli(config, "digest", "--dry-run", "--out", str(root / "digest"))
    assert digest.exit_code == 0, digest.output
    text = next((root / "digest").glob("*.txt")).read_text(encoding="utf-8")
    assert "IN QUARANTAINE: 1 bericht" in text and "Bijlage volgt" not in text
    shown = cli(config, "quarantine", "show", row["triage_id"])
    assert shown.exit_code == 0 and row["reason"] in shown.output
    handed = cli(config, "quarantine", "forward", row["triage_id"], "a.bakker@ind.example")
    assert handed.exit_code == 0, handed.output
    [mail] = outbox(root, "a.bakker@ind.example")
    [attached] = list(mail.iter_attachments())
    assert attached.get_content() == big  # unchanged, byte for byte (base64: a line too long for SMTP)
    assert "niet getrieerd" in mail["Subject"] and "Vraag over verblijf" in mail["Subject"]
    assert json.loads(cli(config, "quarantine", "list", "--json").stdout) == []


def test_release_triages_again_after_the_limit_is_raised(setup):
    root, maildir, write = setup
    big = OTS.replace(b"Beste contactpersoon,", b"Beste contactpersoon,\n" + b"Bijlage volgt. " * 300)
    deliver(maildir, "1.1.t", big)
    poll(write(max_bytes=2_000))
    [row] = json.loads(cli(write(max_bytes=2_000), "quarantine", "list", "--json").stdout)
    still = cli(write(max_bytes=2_000), "quarantine", "release", row["triage_id"])
    assert still.exit_code == 2 and "nog steeds niet te triëren" in still.output
    released = cli(write(max_bytes=200_000), "quarantine", "release", row["triage_id"])
    assert released.exit_code == 0, released.output
    q = question(root, "<e2e-0001@rvdk.example>")
    assert (q.triage_id, q.status, q.verdict) == (row["triage_id"], "routed", "question")
    assert len(outbox(root, q.assignee)) == 1
