"""Bad input through the real CLI: `check` says in one line per part what does not work
(exit 1), and a failing `poll` marks nothing processed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main
from storage import repo
from storage.db import open_database, unit_of_work
from tests.servers import spare_port

pytestmark = pytest.mark.server

from tests.paths import ROOT
CONTACTS = ROOT / "tests" / "fixtures" / "e2e" / "contacts.csv"


def config(tmp_path: Path, mailbox: str, delivery: str = 'kind = "outbox"\npath = "outbox"') -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///db.sqlite3"

[[mailboxes]]
name = "bvhk"
organisation = "IND"
address = "bvhk@ind.example"
{mailbox}

[delivery]
from = "bvhk-triage@ind.example"
{delivery}

[routing]
contacts = "{CONTACTS}"
""", encoding="utf-8")
    return path


def check(path: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.startswith("FOUT")]


def imap(dovecot, user: str, **overrides) -> str:
    values = dict(kind="imap", host="127.0.0.1", port=dovecot.port, tls="none", username=user,
                  password_env="BVHK_TEST_IMAP", folder="INBOX", sent_folder="INBOX") | overrides
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())


@pytest.fixture
def imap_env(monkeypatch, dovecot):
    monkeypatch.setenv("BVHK_TEST_IMAP", dovecot.password)


@pytest.mark.parametrize("overrides, expected", [
    ({"port": "spare"}, "verbinding geweigerd"),
    ({"tls": "ssl"}, "TLS-fout"),
    ({"tls": "ssl", "port": "tls"}, "TLS-certificaat niet vertrouwd"),
    ({"folder": "Bestaat-niet"}, "map 'Bestaat-niet' bestaat niet"),
    ({"password_env": "BVHK_TEST_WRONG"}, "aanmelden geweigerd"),
])
def test_imap_failures_are_one_line_and_exit_1(tmp_path, dovecot, imap_user, imap_env, monkeypatch,
                                                overrides, expected):
    monkeypatch.setenv("BVHK_TEST_WRONG", "fout")
    overrides = {k: {"spare": spare_port(), "tls": dovecot.tls_port}.get(v, v) for k, v in overrides.items()}
    code, failed = check(config(tmp_path, imap(dovecot, imap_user, **overrides)))
    assert code == 1
    assert len(failed) == 1 and failed[0].startswith("FOUT  mailbox bvhk: IMAP 127.0.0.1:") and expected in failed[0]


def test_ews_switched_off_is_one_line_and_a_poll_marks_nothing(tmp_path, fake_ews, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_EWS", fake_ews.password)
    fake_ews.blocked = True
    fake_ews.add("inbox", b"From: a@rvdk.example\r\nMessage-ID: <v@r>\r\nSubject: vraag\r\n\r\nTekst\r\n")
    mailbox = (f'kind = "ews"\nservice_endpoint = "{fake_ews.endpoint}"\nauth = "basic"\n'
               f'username = {json.dumps(fake_ews.username)}\npassword_env = "BVHK_TEST_EWS"\nca_file = "{tls_files.ca}"')
    path = config(tmp_path, mailbox)
    code, failed = check(path)
    assert code == 1 and len(failed) == 1 and "EWS geweigerd (HTTP 403)" in failed[0]
    result = CliRunner().invoke(main, ["--config", str(path), "poll", "--json"])
    assert result.exit_code == 1 and "EWS geweigerd (HTTP 403)" in result.output
    with unit_of_work(open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")) as session:
        assert repo.get_cursor(session, mailbox="bvhk") == ""
        assert repo.question_for_item(session, mailbox="bvhk", source_id=fake_ews.folders["inbox"][0].id) is None


def test_graph_wrong_secret_is_one_line(tmp_path, fake_graph, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_GRAPH", "verkeerd")
    idp = fake_graph.idp
    mailbox = (f'kind = "graph"\ntenant_id = "{idp.tenant}"\nclient_id = "{idp.client_id}"\n'
               f'client_secret_env = "BVHK_TEST_GRAPH"\nbase_url = "{fake_graph.base_url}"\n'
               f'authority = "{fake_graph.base}"\nca_file = "{tls_files.ca}"')
    code, failed = check(config(tmp_path, mailbox))
    assert code == 1 and failed == [f"FOUT  mailbox bvhk: Graph {fake_graph.base_url}: token geweigerd door de "
                                    "authority (invalid_client)"]


@pytest.mark.parametrize("delivery, expected", [
    ('kind = "smtp"\nhost = "127.0.0.1"\nport = {port}\ntls = "starttls"\nusername = "bvhk-smtp"\n'
     'password_env = "BVHK_TEST_WRONG"\nca_file = "{ca}"', "aanmelden geweigerd"),
    ('kind = "smtp"\nhost = "127.0.0.1"\nport = {spare}\ntls = "starttls"', "verbinding geweigerd"),
    ('kind = "smtp"\nhost = "127.0.0.1"\nport = {port}\ntls = "starttls"', "TLS-certificaat niet vertrouwd"),
])
def test_smtp_failures_are_one_line(tmp_path, smtp_server, tls_files, dovecot, imap_user, imap_env, monkeypatch,
                                    delivery, expected):
    monkeypatch.setenv("BVHK_TEST_WRONG", "fout")
    text = delivery.format(port=smtp_server.port, spare=spare_port(), ca=tls_files.ca)
    code, failed = check(config(tmp_path, imap(dovecot, imap_user), delivery=text))
    assert code == 1 and len(failed) == 1
    assert failed[0].startswith("FOUT  aflevering: SMTP 127.0.0.1:") and expected in failed[0]
