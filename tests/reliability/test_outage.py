"""Outages: the SMTP server and the IMAP server go down and come back while `run` works.

Nothing is lost, the worker keeps running and says what is unreachable (log lines, the
heartbeat that `check` shows), and when the servers are back it catches up on its own:
deliveries are retried with back-off, the IMAP mailbox is read from its cursor. A
connection that breaks after DATA (the server stored the message, the worker never heard)
leads to a resend with the same Message-ID.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.reliability.harness import (
    BIN,
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
from tests.servers import DOVECOT, Dovecot, start_dovecot, wait_for_port


@pytest.fixture
def own_dovecot(tls_files, require_server):
    """A Dovecot of this test's own, so taking it down disturbs no other test."""
    server = start_dovecot(tls_files)
    if isinstance(server, str):
        require_server("Dovecot IMAP server", server)
    yield server
    server.stop()


def restart(server: Dovecot) -> None:
    """Bring Dovecot back on the same ports with the same mail."""
    subprocess.run([str(DOVECOT), "-c", str(server.root / "dovecot.conf")], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    assert wait_for_port(server.port)


def errors_about(log, text: str) -> list[str]:
    return [line["message"] for line in log_lines(log) if line["level"] == "error" and text in line["message"]]


@pytest.mark.server
def test_smtp_and_imap_outages_lose_nothing_and_the_worker_reports_them(tmp_path, models, own_dovecot, smtp_sink):
    dovecot = own_dovecot
    user = dovecot.new_user()
    local = sample_messages(100, tag="out-md")
    remote = sample_messages(100, tag="out-imap", start=100)
    late_local = sample_messages(60, tag="out-md-late", start=200)
    late_remote = sample_messages(40, tag="out-imap-late", start=260)
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, local)
    fill_imap(dovecot, user, remote)
    sink = smtp_sink
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=sink.port,
                          mailboxes=[maildir_box("ind", maildir), imap_box("dtv", dovecot, user)])
    db = Database(url)
    log = tmp_path / "worker.log"
    worker = Worker(config, log)
    smtp_where = f"SMTP 127.0.0.1:{sink.port}"
    imap_where = f"IMAP 127.0.0.1:{dovecot.port}"
    try:
        # 1. the first three connections break after DATA: stored by the server, unknown to the worker
        sink.drop_next = 3
        worker.start()
        wait_for(lambda: sink.dropped == 3 and len(sink.messages()) >= 10, timeout=90, what="the first forwards")

        # 2. the SMTP server goes down while mail keeps arriving; the worker reports the outage
        sink.stop()
        deliver_to_maildir(maildir, late_local, first=len(local))
        wait_for(lambda: errors_about(log, f"aflevering: {smtp_where}"), timeout=60, what="the delivery outage logged")
        wait_for(lambda: "fout: " in (db.scalar("SELECT status FROM heartbeat") or ""), timeout=30,
                 what="the outage in the heartbeat")
        check = subprocess.run([str(BIN), "--config", str(config), "check"], capture_output=True, text=True,
                               env=worker.env, timeout=60)

        # 3. the IMAP server goes down too
        dovecot.stop()
        wait_for(lambda: errors_about(log, f"mailbox dtv: {imap_where}"), timeout=30, what="the IMAP outage logged")
        time.sleep(3)  # a few polls with both servers down
        alive_during_outage = worker.alive

        # 4. both come back; new IMAP mail arrives after the outage
        sink.start()
        restart(dovecot)
        dovecot.append(user, [raw for _, raw in late_remote])
        everything = local + remote + late_local + late_remote
        wait_for(lambda: db.done(len(everything)), timeout=120, what="every message handled and delivered")
        exit_code = worker.stop()
    finally:
        worker.ensure_gone()
    result = account(db, sink, [mid for mid, _ in everything])
    retried = db.scalar("SELECT count(*) FROM delivery WHERE attempts > 1")
    db.close()
    messages = [line["message"] for line in log_lines(log)]
    write_summary("outage", {**result.as_dict(), "dropped_after_data": sink.dropped, "retried_deliveries": retried,
                             "error_lines": sum(1 for line in log_lines(log) if line["level"] == "error")})

    assert alive_during_outage and exit_code == 0
    assert check.returncode == 1
    assert f"FOUT  aflevering: {smtp_where}: verbinding geweigerd" in check.stdout
    assert f"meldt: fout: aflevering: {smtp_where}" in check.stdout
    assert result.missing_items == [] and result.stored == len(everything)
    assert result.lost == [] and result.duplicates == [] and result.not_sent == 0
    assert 3 <= result.resends <= 4  # the three broken answers (and perhaps the one cut off by the stop)
    assert retried >= 4
    assert "aflevering: reachable again" in messages and "mailbox dtv: reachable again" in messages
    # once per change of state: the outage is logged when it begins, not at every poll of it
    assert 1 <= len(errors_about(log, f"mailbox dtv: {imap_where}")) <= 2
    assert 1 <= len(errors_about(log, f"aflevering: {smtp_where}")) <= 2
    assert dovecot.password not in log.read_text() + check.stdout + check.stderr  # the secret is never shown


def test_a_delivery_that_keeps_failing_backs_off_and_is_marked_failed_after_max_attempts(tmp_path, models):
    from bot.service.heartbeat import check_lines
    from bot.settings import load_settings
    from bot.outgoing.queue import backoff
    from bot.service.worker import Runtime, poll, send_pending
    from tests.servers import spare_port

    assert [backoff(60, n).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]
    maildir = make_maildir(tmp_path / "mail" / "ind")
    messages = sample_messages(3, tag="fails")
    deliver_to_maildir(maildir, messages)
    closed = spare_port()  # nothing listens here
    config = write_config(tmp_path, url=f"sqlite:///{tmp_path / 'db.sqlite3'}", models=models, smtp_port=closed,
                          mailboxes=[maildir_box("ind", maildir)], delivery={"retry_seconds": 0.05, "max_attempts": 3})
    runtime = Runtime.start(load_settings(config))
    first = poll(runtime)
    assert first.routed == 3 and first.delivered == 0
    assert first.delivery_failed == 2  # two failures in a row end the round; the third keeps its attempts
    assert first.errors == [f"aflevering: SMTP 127.0.0.1:{closed}: verbinding geweigerd "
                            "(draait de server, klopt de poort?)"]
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert db.rows("SELECT attempts, next_attempt_at IS NOT NULL FROM delivery ORDER BY id") == [(1, 1), (1, 1), (0, 0)]
    for _ in range(40):
        if not db.waiting():
            break
        time.sleep(0.1)
        send_pending(runtime, first)
    assert db.rows("SELECT DISTINCT status, attempts FROM delivery") == [("failed", 3)]
    lines = check_lines(runtime.engine, heartbeat_seconds=30)
    assert "let op 3 uitgaande bericht(en) niet afgeleverd na het maximale aantal pogingen" in "\n".join(lines)
    db.close()
    runtime.engine.dispose()
