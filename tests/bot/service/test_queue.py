"""Reading and triage apart: what one worker read from a mailbox waits in the inbox queue, and a
worker that cannot read that mailbox (another holds its lease) triages it. A worker that
stops in the middle of the queue gives back what it claimed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

import bot.service.worker
from bot.service.heartbeat import check_lines
from bot.service.leases import mailbox_lease
from bot.service.worker import Runtime, poll
from bot.settings import load_settings
from storage import repo
from storage.db import unit_of_work
from storage.models import AuditEntry, Delivery, InboxItem, Question
from tests.reliability.harness import deliver_to_maildir, maildir_box, make_maildir, sample_messages, write_config

MESSAGES = sample_messages(40, tag="queue")


def _runtime(folder, models, worker_id: str) -> Runtime:
    maildir = make_maildir(folder / "mail" / "ind")
    config = write_config(folder, url=f"sqlite:///{folder / 'db.sqlite3'}", models=models, smtp_port=None,
                          mailboxes=[maildir_box("ind", maildir)])
    runtime = Runtime.start(load_settings(config))
    runtime.worker_id = worker_id
    return runtime


def test_a_worker_triages_what_another_worker_read(tmp_path, models, monkeypatch):
    reader = _runtime(tmp_path, models, "reader")
    deliver_to_maildir(tmp_path / "mail" / "ind", MESSAGES)
    with monkeypatch.context() as patched:  # the reader only reads (as if others triaged faster)
        patched.setattr(bot.service.worker, "triage_queued", lambda *args, **kwargs: None)
        read = poll(reader)
    assert read.fetched == len(MESSAGES) and read.triaged == 0
    with unit_of_work(reader.engine) as session:
        assert repo.queued(session)[0] == len(MESSAGES)
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert any("40 opgehaald(e) bericht(en) wachten op triage, het oudste sinds 5 min" in line
               for line in check_lines(reader.engine, heartbeat_seconds=30, now=later))
    assert mailbox_lease(reader.engine, mailbox="ind", holder="reader", seconds=60).take()  # reading again

    other = _runtime(tmp_path, models, "other")
    report = poll(other)

    assert report.fetched == 0 and [held["holder"] for held in report.elsewhere] == ["reader"]
    handled = report.triaged + sum(report.skipped.values()) + report.quarantined
    assert handled == len(MESSAGES) and report.triaged > 30 and report.delivered >= report.routed
    with unit_of_work(other.engine) as session:
        assert repo.queued(session)[0] == 0
        stored = session.exec(select(Question.message_id)).all()
    assert sorted(stored) == sorted(message_id for message_id, _ in MESSAGES)
    assert not any("wachten op triage" in line for line in check_lines(other.engine, heartbeat_seconds=30))
    for runtime in (reader, other):
        runtime.engine.dispose()


def test_a_worker_stopping_in_the_queue_gives_back_what_it_claimed(tmp_path, models, monkeypatch):
    runtime = _runtime(tmp_path, models, "stopping")
    deliver_to_maildir(tmp_path / "mail" / "ind", MESSAGES)
    real, seen = bot.service.worker.triage_message, []

    def stops_after_five(raw: bytes, **kwargs):
        seen.append(1)
        if len(seen) == 5:
            runtime.stopping.set()  # SIGTERM: the current message is finished, then the poll ends
        return real(raw, **kwargs)

    monkeypatch.setattr(bot.service.worker, "triage_message", stops_after_five)
    first = poll(runtime)
    with unit_of_work(runtime.engine) as session:
        waiting = session.exec(select(InboxItem)).all()
    assert first.fetched == len(MESSAGES)
    assert len(waiting) == len(MESSAGES) - 5 and {item.claimed_by for item in waiting} == {""}

    runtime.stopping.clear()  # started again: it goes on where it stopped
    second = poll(runtime)
    assert second.fetched == 0
    with unit_of_work(runtime.engine) as session:
        assert repo.queued(session)[0] == 0
        assert len(session.exec(select(Question)).all()) == len(MESSAGES)
    runtime.engine.dispose()


def test_an_item_whose_claim_lapsed_leaves_nothing_of_its_first_triage(tmp_path, models, monkeypatch):
    # the claim on each item lapses once, found when it is taken off the queue: that triage,
    # its question, deliveries and audit row, rolls back whole, also what was stored under
    # the savepoint (SQLite: the transaction begun at once); the item is triaged again, once
    runtime = _runtime(tmp_path, models, "late")
    deliver_to_maildir(tmp_path / "mail" / "ind", MESSAGES[:4])
    real, lapsed = repo.unqueue, set()

    def lapses_once(session, *, item_id: int, holder: str) -> bool:
        if item_id not in lapsed:
            lapsed.add(item_id)
            return False
        return real(session, item_id=item_id, holder=holder)

    monkeypatch.setattr(bot.service.worker.repo, "unqueue", lapses_once)
    report = poll(runtime)
    assert len(lapsed) == 4 and report.fetched == 4
    # stored once, by the second triage: the first one left nothing for it to find
    assert report.skipped["duplicate"] == 0 and report.triaged + sum(report.skipped.values()) == 4
    with unit_of_work(runtime.engine) as session:
        stored = session.exec(select(Question.message_id, Question.verdict)).all()
        triaged = session.exec(select(AuditEntry.question_id).where(AuditEntry.action.startswith("triage:"))).all()
        deliveries = session.exec(select(Delivery.question_id)).all()
        assert repo.queued(session)[0] == 0
    assert sorted(m for m, _ in stored) == sorted(m for m, _ in MESSAGES[:4])
    assert "duplicate" not in {verdict for _, verdict in stored}
    assert len(triaged) == len(set(triaged)) == 4
    assert len(deliveries) == report.delivered and report.routed + report.needs_review >= 1
    runtime.engine.dispose()
