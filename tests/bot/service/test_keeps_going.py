"""A worker that keeps going: one broken mailbox fails alone, says so once, and a killed
poll's mailbox is taken over at once by the next one on the same host."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from click.testing import CliRunner

from bot.cli.commands import main
from bot.service.leases import mailbox_lease
from storage import repo
from storage.db import open_database, unit_of_work
from tests.paths import FIXTURES
from tests.reliability.harness import (
    Database,
    SmtpSink,
    Worker,
    deliver_to_maildir,
    log_lines,
    maildir_box,
    make_maildir,
    sample_messages,
    wait_for,
    write_config,
)


@pytest.fixture
def sink(require_server):
    sink = SmtpSink()
    try:
        sink.start()
    except Exception as exc:  # aiosmtpd missing, or no port
        require_server("aiosmtpd SMTP server", f"{type(exc).__name__}: {exc}")
    yield sink
    sink.stop()


def broken_imap(port: int) -> dict:
    return {"name": "dtv", "organisation": "DT&V", "address": "bvhk@dtv.example", "kind": "imap",
            "host": "127.0.0.1", "port": port, "tls": "none", "username": "svc",
            "password_env": "BVHK_NOT_SET_ANYWHERE", "folder": "INBOX", "sent_folder": "Sent"}


@pytest.mark.server
def test_run_keeps_forwarding_from_a_working_mailbox_while_anothers_secret_is_missing(tmp_path, models, sink):
    maildir = make_maildir(tmp_path / "mail" / "ind")
    messages = sample_messages(30, tag="keep")
    deliver_to_maildir(maildir, messages)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=sink.port,
                          mailboxes=[broken_imap(1), maildir_box("ind", maildir)], schedule={"poll_seconds": 1})
    db = Database(url)
    worker = Worker(config, tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: db.done(len(messages)), timeout=120, what="the working mailbox handled")
        time.sleep(3)  # several more polls with the broken mailbox
        assert worker.alive
        assert worker.stop() == 0
    finally:
        worker.ensure_gone()
        db.close()
    assert len(sink.messages()) > 0
    lines = log_lines(tmp_path / "worker.log")
    about = [line for line in lines if "BVHK_NOT_SET_ANYWHERE" in line["message"] and line["level"] != "info"]
    assert [(line["level"], line["message"]) for line in about] == [
        ("error", "mailbox dtv: omgevingsvariabele BVHK_NOT_SET_ANYWHERE (uit 'password_env') is niet gezet")]
    assert not any("Traceback" in line["message"] for line in lines)


def test_check_offline_names_every_secret_that_is_not_set(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///db.sqlite3"\n'
        '[[mailboxes]]\nname = "dtv"\norganisation = "DT&V"\naddress = "bvhk@dtv.example"\nkind = "imap"\n'
        'host = "127.0.0.1"\nport = 993\nusername = "svc"\npassword_env = "BVHK_NOT_SET_ANYWHERE"\n'
        '[delivery]\nkind = "smtp"\nhost = "127.0.0.1"\nport = 587\nusername = "svc"\n'
        'password_env = "BVHK_SMTP_NOT_SET"\n'
        f'[routing]\ncontacts = "{FIXTURES / "e2e" / "contacts.csv"}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--offline"])
    assert result.exit_code == 1
    assert "FOUT  mailbox dtv: omgevingsvariabele BVHK_NOT_SET_ANYWHERE (uit 'password_env') is niet gezet" \
        in result.output.splitlines()
    assert "FOUT  aflevering: omgevingsvariabele BVHK_SMTP_NOT_SET (uit 'password_env') is niet gezet" \
        in result.output.splitlines()


def test_a_lease_held_by_a_process_that_no_longer_runs_here_is_taken_at_once(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        for pid, expected in ((alive.pid, False), (gone.pid, True)):
            with unit_of_work(engine) as session:
                repo.release_lease(session, name="mailbox:ind", holder="mine")
                assert repo.acquire_lease(session, name="mailbox:ind", holder="killed-poll", seconds=600,
                                          host=__import__("socket").gethostname(), pid=pid)
            assert mailbox_lease(engine, mailbox="ind", holder="mine", seconds=60).take() is expected, pid
    finally:
        alive.kill()
        alive.wait()
        engine.dispose()


def test_poll_says_which_mailbox_another_worker_holds_and_until_when(tmp_path, models):
    maildir = make_maildir(tmp_path / "mail" / "ind")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[[mailboxes]]\nname = "ind"\norganisation = "IND"\n'
        f'address = "bvhk@ind.example"\nkind = "maildir"\npath = "{maildir}"\n'
        f'[delivery]\nkind = "outbox"\npath = "outbox"\n[routing]\ncontacts = "{FIXTURES / "e2e" / "contacts.csv"}"\n'
        f'[classifier]\nmodels = "{models}"\n', encoding="utf-8")
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as session:  # another machine's worker, alive
        assert repo.acquire_lease(session, name="mailbox:ind", holder="bvhk-2", seconds=600, host="elders", pid=1)
    engine.dispose()
    result = CliRunner().invoke(main, ["--config", str(config), "poll", "--json"])
    assert result.exit_code == 0, result.output
    [held] = json.loads(result.stdout)["elsewhere"]
    assert held["mailbox"] == "ind" and held["holder"] == "bvhk-2" and held["until"]
    shown = CliRunner().invoke(main, ["--config", str(config), "poll"])
    assert "mailbox ind: nu in gebruik door worker bvhk-2 tot " in shown.output
