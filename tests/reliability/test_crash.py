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
    Worker,
    account,
    deliver_to_maildir,
    fill_imap,
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
KILLS = 20
LOCAL, REMOTE = 500, 500


@pytest.mark.server
def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(tmp_path, models, dovecot, imap_user,
                                                                        smtp_sink):
    local = sample_messages(LOCAL, tag="md")
    remote = sample_messages(REMOTE, tag="imap", start=LOCAL)
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, local)
    fill_imap(dovecot, imap_user, remote)
    sink = smtp_sink
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
        # the last start may find nothing left to do; once it runs (its heartbeat), SIGTERM stops it cleanly
        wait_for(lambda: worker.pid in db.heartbeat_pids(), timeout=90, interval=0.05, what="the worker to start")
        exit_code = worker.stop()
    finally:
        worker.ensure_gone()
    seconds = time.monotonic() - started
    result = account(db, sink, [mid for mid, _ in local + remote])
    db.close()
    write_summary("crash", {"kills": len(kills), "seconds": round(seconds, 1), **result.as_dict(),
                            "at_kills": kills})

    assert len(kills) == KILLS
    mid_work = [k for k in kills if 0 < k["stored"] < LOCAL + REMOTE]
    assert len(mid_work) >= KILLS // 2, f"most kills must land while the worker is busy: {kills}"
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
def test_sigterm_stops_after_the_current_message_and_a_restart_goes_on(tmp_path, models, smtp_sink):
    messages = sample_messages(300, tag="term")
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, messages)
    sink = smtp_sink
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


def test_check_shows_each_live_worker_and_warns_about_one_that_stopped_beating(tmp_path):
    from datetime import timedelta

    from bot.service.heartbeat import Pulse, check_lines
    from storage import repo
    from storage.db import open_database, unit_of_work
    from storage.models import Heartbeat, utcnow

    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    Pulse(engine, "ind-1").start()
    killed = Pulse(engine, "ind-2", pid=4242)
    killed.start()
    with unit_of_work(engine) as session:
        session.get(Heartbeat, "ind-2").beat_at = utcnow() - timedelta(minutes=12)
        repo.beat(session, worker_id="ind-1", host="vm", pid=1, started_at=utcnow(), status="fout: mailbox dtv: weg")
    lines = check_lines(engine, heartbeat_seconds=30)
    assert lines[0].startswith("ok    worker ind-1 op vm (pid 1): hartslag 0 s geleden")
    assert lines[1] == "let op worker ind-1 op vm (pid 1) meldt: fout: mailbox dtv: weg"
    assert lines[2].startswith("let op worker ind-2 op ") and "geen hartslag sinds 12 min" in lines[2]
    Pulse(engine, "ind-1").stop()
    assert not any("ind-1" in line for line in check_lines(engine, heartbeat_seconds=30))
    engine.dispose()
