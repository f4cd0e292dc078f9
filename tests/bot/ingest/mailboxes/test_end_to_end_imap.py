"""End to end over real servers: questions appended to a private Dovecot are triaged by
the real CLI, forwarded over SMTP (STARTTLS, AUTH) to aiosmtpd, marked with IMAP keywords,
and a reply appended to the sent folder answers the question."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main

pytestmark = pytest.mark.server

from tests.paths import ROOT
E2E = ROOT / "tests" / "fixtures" / "e2e"
SAMPLE = ROOT / "bot" / "sample"
SHARED = "bvhk@ind.example"


@pytest.fixture
def setup(tmp_path, models, dovecot, imap_user, smtp_server, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_IMAP", dovecot.password)
    monkeypatch.setenv("BVHK_TEST_SMTP", smtp_server.password)
    dovecot.append(imap_user, [], folder="Sent")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
url = "sqlite:///db.sqlite3"

[[mailboxes]]
name = "ind"
organisation = "IND"
address = "{SHARED}"
kind = "imap"
host = "127.0.0.1"
port = {dovecot.port}
tls = "starttls"
ca_file = "{tls_files.ca}"
username = "{imap_user}"
password_env = "BVHK_TEST_IMAP"
folder = "INBOX"
sent_folder = "Sent"

[delivery]
kind = "smtp"
from = "bvhk-triage@bvhk.example"
host = "127.0.0.1"
port = {smtp_server.port}
tls = "starttls"
ca_file = "{tls_files.ca}"
username = "{smtp_server.username}"
password_env = "BVHK_TEST_SMTP"

[routing]
contacts = "{E2E / 'contacts.csv'}"

[classifier]
models = "models"
min_confidence = 0.2
""", encoding="utf-8")
    return config


def run(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_dovecot_to_smtp_and_a_sent_reply_answers(setup, dovecot, imap_user, smtp_server):
    config = setup
    dovecot.append(imap_user, [p.read_bytes() for p in sorted(E2E.glob("0[1-3]*.eml"))])

    result = run(config, "poll", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fetched"] == 3 and report["triaged"] == 3, report
    assert report["delivered"] == report["routed"] >= 1

    forwards = [email.message_from_bytes(m.data, policy=policy.default) for m in smtp_server.messages]
    assert len(forwards) == report["routed"]
    assert all(m.login == smtp_server.username for m in smtp_server.messages)
    for forward, received in zip(forwards, smtp_server.messages):
        assert received.rcpt_tos == (forward["To"].addresses[0].addr_spec,)
        assert forward["X-BvhK-Triage"] and forward["X-BvhK-Triage-Original"] in forward["References"]

    # the shared mailbox as people see it: nothing read, moved or deleted; marks added
    client = dovecot.client(imap_user)
    client.select_folder("INBOX", readonly=True)
    flags = {uid: set(d[b"FLAGS"]) for uid, d in client.fetch(client.search("ALL"), ["FLAGS"]).items()}
    client.logout()
    assert len(flags) == 3
    assert all(b"\\Seen" not in f and b"\\Deleted" not in f for f in flags.values())
    assert all(any(flag.startswith(b"BvhK_") for flag in f) for f in flags.values())

    backlog = json.loads(run(config, "backlog", "--json").stdout)
    routed = [row for row in backlog if row["status"] == "routed"]
    assert routed
    # a contact person answers the first routed question from the shared mailbox
    original = next(f["X-BvhK-Triage-Original"] for f in forwards if f["X-BvhK-Triage"] == routed[0]["triage_id"])
    reply = (f"From: {SHARED}\r\nTo: m.verbeek@rvdk.example\r\nSubject: RE: vraag\r\n"
             f"Message-ID: <antwoord-1@ind.example>\r\nIn-Reply-To: {original}\r\nReferences: {original}\r\n"
             "Date: Tue, 17 Nov 2026 10:00:00 +0100\r\n\r\nBeste collega, het antwoord is ...\r\n").encode()
    dovecot.append(imap_user, [reply], folder="Sent")

    again = json.loads(run(config, "poll", "--json").stdout)
    assert again["fetched"] == 0 and again["delivered"] == 0
    assert len(smtp_server.messages) == report["routed"]  # nothing sent twice
    still_open = {row["triage_id"] for row in json.loads(run(config, "backlog", "--json").stdout)}
    assert routed[0]["triage_id"] not in still_open


def test_check_connects_to_mailbox_and_smtp(setup):
    result = run(setup, "check")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok    mailbox ind: IMAP 127.0.0.1") and "aangemeld" in line for line in lines)
    assert any(line.startswith("ok    aflevering: SMTP 127.0.0.1") for line in lines)


def test_wrong_password_is_one_line_exit_1_and_nothing_processed(setup, dovecot, imap_user, monkeypatch):
    dovecot.append(imap_user, [(E2E / "01-vraag-ots.eml").read_bytes()])
    monkeypatch.setenv("BVHK_TEST_IMAP", "fout")
    result = run(setup, "check")
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("FOUT")]
    assert failed == [f"FOUT  mailbox ind: IMAP 127.0.0.1:{dovecot.port}: aanmelden geweigerd "
                      "(controleer username en password_env)"]
    poll = run(setup, "poll", "--json")
    assert poll.exit_code == 1, poll.output
    assert "aanmelden geweigerd" in poll.output
    monkeypatch.setenv("BVHK_TEST_IMAP", dovecot.password)
    assert json.loads(run(setup, "poll", "--json").stdout)["fetched"] == 1  # nothing was marked processed
