"""Poison messages: a message that makes a stage fail is tried on the next polls and, after
three failures, quarantined with its reason; the messages around it go on, and nothing is
lost or forwarded twice. A message that cannot be read at all is quarantined at once."""

from __future__ import annotations

from email.message import EmailMessage

import bot.service.worker
from bot.settings import load_settings
from bot.service.worker import Runtime, poll
from storage import repo
from storage.db import unit_of_work
from tests.reliability.harness import (
    deliver_to_maildir,
    maildir_box,
    make_maildir,
    sample_messages,
    write_config,
)


def oversized() -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"] = "jurist@ind.example"
    msg["To"] = "bvhk@ind.example"
    msg["Subject"] = "Vraag met een grote bijlage"
    msg["Message-ID"] = "<too-big@test.example>"
    msg.set_content("Zie de bijlage.")
    msg.add_attachment(b"\0" * 300_000, maintype="application", subtype="octet-stream", filename="dossier.bin")
    return "<too-big@test.example>", msg.as_bytes()


def test_a_message_that_fails_three_times_is_quarantined_and_the_rest_go_on(tmp_path, models, monkeypatch,
                                                                           caplog):
    messages = sample_messages(40, tag="poison")
    messages.insert(25, oversized())
    poison = {messages[5][0], messages[17][0]}
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, messages)
    config = write_config(tmp_path, url=f"sqlite:///{tmp_path / 'db.sqlite3'}", models=models, smtp_port=None,
                          mailboxes=[maildir_box("ind", maildir)], extra="[parsing]\nmax_bytes = 200000\n")
    runtime = Runtime.start(load_settings(config))
    real = bot.service.worker.triage_message

    def breaks_on_poison(raw: bytes, **kwargs):
        if any(message_id.encode() in raw for message_id in poison):
            raise RuntimeError("a stage broke on 06-12345678")  # its text must never be stored or logged
        return real(raw, **kwargs)

    monkeypatch.setattr(bot.service.worker, "triage_message", breaks_on_poison)
    reports = [poll(runtime).as_dict() for _ in range(4)]

    assert [r["failed"] for r in reports] == [2, 2, 0, 0]
    assert [r["quarantined"] for r in reports] == [1, 0, 2, 0]  # the unreadable one at once, the poison after 3 tries
    assert reports[0]["fetched"] == len(messages)
    assert reports[3]["fetched"] == 0  # the cursor moved past them once they were given up
    with unit_of_work(runtime.engine) as session:
        entries = {(q.source_id, q.attempts, q.reason) for q in repo.quarantined(session)}
        stored = repo.open_questions(session)
    reasons = sorted(reason for _, _, reason in entries)
    assert len(entries) == 3
    assert reasons[-2:] == ["verwerking mislukt: RuntimeError"] * 2
    assert reasons[0].startswith("bericht groter dan")
    assert all("06-12345678" not in reason for reason in reasons) and "06-12345678" not in caplog.text
    assert caplog.text.count("triage failed for item") == 6
    assert sorted(attempts for _, attempts, reason in entries if reason.startswith("verwerking")) == [3, 3]
    routed, reviewed = sum(r["routed"] for r in reports), sum(r["needs_review"] for r in reports)
    sent = [p.read_bytes() for p in (tmp_path / "outbox").glob("*/new/*")]
    forwards = [raw for raw in sent if b"\nX-BvhK-Triage-Original:" in raw]
    notices = [raw for raw in sent if b"[BvhK quarantaine " in raw]
    assert routed + reviewed == len(forwards)  # to the contact persons, and to the reviewer
    assert len(notices) == 3  # the reviewer hears of each mail in quarantine, without its content
    assert len(sent) == sum(r["delivered"] for r in reports)  # each once, none twice
    assert not any(b"06-12345678" in raw or b"dossier.bin" in raw for raw in notices)
    assert len(stored) + sum(sum(r["skipped"].values()) for r in reports) + 3 == len(messages)
    runtime.engine.dispose()
