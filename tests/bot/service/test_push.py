"""Push: `run` reads an IMAP mailbox the moment mail arrives (IDLE), not at the next poll.

The scheduled poll is set to once an hour; a question appended to Dovecot while the worker
is idle must still be forwarded, so it was the IDLE watcher that read it. No timing is
asserted: the waits are generous bounds, far below the hour."""

from __future__ import annotations

import pytest

from bot.service.health import health
from bot.settings import load_settings

from tests.reliability.harness import (
    Database,
    SmtpSink,
    Worker,
    fill_imap,
    imap_box,
    sample_messages,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.server


@pytest.fixture
def sink(require_server):
    sink = SmtpSink()
    try:
        sink.start()
    except Exception as exc:  # aiosmtpd missing, or no port
        require_server("aiosmtpd SMTP server", f"{type(exc).__name__}: {exc}")
    yield sink
    sink.stop()


def forwarded(sink: SmtpSink) -> set[str]:
    return {line.split(b":", 1)[1].strip().decode()
            for r in sink.received for line in r.data.splitlines()
            if line.lower().startswith(b"x-bvhk-triage-original:")}


def push_of(settings, db, mailbox: str) -> str:
    return next(m["push"] for m in health(settings, db.engine)["mailboxes"] if m["name"] == mailbox)


def test_a_question_appended_while_run_is_idle_is_forwarded_before_the_next_poll(tmp_path, models, dovecot,
                                                                                 imap_user, sink):
    first, second = sample_messages(2, tag="push")
    fill_imap(dovecot, imap_user, [first])
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=sink.port,
                          mailboxes=[imap_box("dtv", dovecot, imap_user)],
                          schedule={"poll_seconds": 3600, "push": True})
    db = Database(url)
    worker = Worker(config, tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: first[0] in forwarded(sink), timeout=120, what="the first question forwarded")
        dovecot.append(imap_user, [second[1]])  # the worker is idle now: next poll in an hour
        wait_for(lambda: second[0] in forwarded(sink), timeout=60, what="the appended question forwarded")
        # the console's /health shows the connection the heartbeat reports (the push after a poll beats)
        settings = load_settings(config)
        wait_for(lambda: push_of(settings, db, "dtv") == "waiting", timeout=30, what="push state in /health")
        assert worker.stop() == 0
    finally:
        worker.ensure_gone()
        db.close()
    assert sorted(forwarded(sink)) == sorted([first[0], second[0]])  # each once
    assert len(sink.received) == 2


def test_a_watcher_that_cannot_log_in_says_so_once_and_keeps_trying(dovecot, imap_user, caplog, monkeypatch):
    import threading

    from bot.service import push
    from bot.settings import ImapSettings

    monkeypatch.setattr(push, "FIRST_RETRY", 0.05)
    monkeypatch.setenv("BVHK_TEST_WRONG", "niet-het-wachtwoord")
    config = ImapSettings(kind="imap", name="dtv", organisation="DT&V", address="bvhk@dtv.example",
                          host="127.0.0.1", port=dovecot.port, tls="none", username=imap_user,
                          password_env="BVHK_TEST_WRONG")
    stopping = threading.Event()
    woken: list[str] = []
    watcher = push.Watcher(config, on_new=woken.append, stopping=stopping)
    with caplog.at_level("INFO", logger="bot.service.push"):
        watcher.start()
        try:
            wait_for(lambda: watcher.state.startswith("retrying"), timeout=20, what="the watcher retrying")
            threading.Event().wait(0.5)  # several more failed attempts
        finally:
            stopping.set()
            watcher.join(timeout=10)
    assert not watcher.is_alive() and watcher.state == "stopped"
    assert woken == []
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.service.push"]
    assert len([line for line in lines if "paused" in line]) == 1  # once per change of state
    assert "aanmelden geweigerd" in lines[0] and "niet-het-wachtwoord" not in " ".join(lines)
