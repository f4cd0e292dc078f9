"""Crashes: the worker is killed with SIGKILL at random moments while it triages 1,000
messages from a Maildir and a Dovecot IMAP mailbox and delivers over SMTP; it is started
again each time. At the end every item is stored once and every forward arrived once at
the SMTP server (counted by X-BvhK-Triage-Original); a copy with the same Message-ID (the
worker died after the server accepted, before it recorded that) is a recognisable resend.

Also: SIGTERM stops `run` cleanly in the middle of a poll (the current message finished,
exit 0, heartbeat removed), and a restart goes on where it stopped.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.reliability.harness import (
    Database,
    SmtpSink,
    Worker,
    account,
    deliver_to_maildir,
    imap_box,
    log_lines,
    maildir_box,
    make_maildir,
    sample_messages,
    wait_for,
    write_config,
    write_summary,
)

SEED = 20261129
KILLS = 22  # at least 20
LOCAL, REMOTE = 500, 500


@pytest.mark.server
def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(tmp_path, models, dovecot, imap_user):
    local = sample_messages(LOCAL, tag="md")
    remote = sample_messages(REMOTE, tag="imap", start=LOCAL)
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, local)
    dovecot.append(imap_user, [raw for _, raw in remote])
    sink = SmtpSink().start()
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(
        tmp_path, url=url, models=models, smtp_port=sink.port,
        mailboxes=[maildir_box("ind", maildir), imap_box("dtv", dovecot, imap_user)],
        schedule={"worker_id": "crash-worker"},  # a restart takes its mailbox leases back at once
    )
    db = Database(url)
    rng = random.Random(SEED)
    worker = Worker(config, tmp_path / "worker.log")
    kills: list[dict] = []
    started = time.monotonic()
    try:
        worker.start()
        while len(kills) < KILLS:
            wait_for(lambda: worker.pid in db.heartbeat_pids(), timeout=90, interval=0.05, what="the worker to start")
            time.sleep(rng.uniform(0.0, 1.5))  # a random moment of its work
            worker.kill()
            kills.append({"stored": db.handled(), "received": len(sink.messages())})
            worker.start()
        wait_for(lambda: db.done(LOCAL + REMOTE), timeout=240, interval=0.5, what="every message handled")
        exit_code = worker.stop()
    finally:
        worker.ensure_gone()
        sink.stop()
    seconds = time.monotonic() - started
    result = account(db, sink, [mid for mid, _ in local + remote])
    db.close()
    write_summary("crash", {"kills": len(kills), "seconds": round(seconds, 1), **result.as_dict(),
                            "at_kills": kills})

    assert len(kills) >= 20
    assert exit_code == 0
    assert result.missing_items == [], "mail put in a mailbox was never stored"
    assert result.stored == LOCAL + REMOTE
    assert result.lost == [], "a stored forward never reached the SMTP server"
    assert result.duplicates == [], "a question was forwarded twice under different Message-IDs"
    assert result.not_sent == 0
    assert result.routed > 0.8 * (LOCAL + REMOTE)
    assert result.resends <= len(kills)  # at most one unknown outcome per kill, same Message-ID
    assert log_lines(tmp_path / "worker.log")  # every line on stderr is JSON


@pytest.mark.server
def test_sigterm_stops_after_the_current_message_and_a_restart_goes_on(tmp_path, models):
    messages = sample_messages(300, tag="term")
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, messages)
    sink = SmtpSink().start()
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=sink.port,
                          mailboxes=[maildir_box("ind", maildir)])
    db = Database(url)
    log = tmp_path / "worker.log"
    worker = Worker(config, log)
    try:
        worker.start()
        wait_for(lambda: db.handled() >= 20, timeout=90, what="the first questions")
        asked_to_stop = time.monotonic()
        exit_code = worker.stop(timeout=30)
        stop_seconds = time.monotonic() - asked_to_stop
        stored_at_stop = db.handled()
        heartbeats_after_stop = db.heartbeat_pids()
        worker.start()
        wait_for(lambda: db.done(len(messages)), timeout=120, what="every message handled")
        assert worker.stop() == 0
    finally:
        worker.ensure_gone()
        sink.stop()
    result = account(db, sink, [mid for mid, _ in messages])
    db.close()
    write_summary("sigterm", {"stop_seconds": round(stop_seconds, 2), "stored_at_stop": stored_at_stop,
                              **result.as_dict()})

    assert exit_code == 0
    assert stop_seconds < 10
    assert stored_at_stop < len(messages)  # it stopped in the middle of the poll
    assert heartbeats_after_stop == set()  # a clean stop removes the heartbeat
    assert result.missing_items == [] and result.lost == [] and result.duplicates == [] and result.resends == 0
    messages_logged = [line["message"] for line in log_lines(log)]
    assert any("stopping after the current message" in m for m in messages_logged)
    assert sum("stopped" in m and m.startswith("worker ") for m in messages_logged) == 2
