"""/health and /health.json: the service's figures, for a signed-in admin or coordinator and
for monitoring with the bearer token; "retry now" for the admin."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from bot.cli.commands import main
from bot.service.health import health
from bot.settings import load_settings
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import Delivery, Question, utcnow
from tests.paths import SAMPLE

PASSWORD = "een-goed-wachtwoord"
MAIL = b"From: bvhk@ind.example\r\nSubject: test\r\n\r\nbody\r\n"


@pytest.fixture
def console(tmp_path, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-test-0123456789")
    monkeypatch.setenv("BVHK_HEALTH_TOKEN", "token-van-de-monitoring")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                      f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
                      f'[[mailboxes]]\nname = "ind"\norganisation = "IND"\nkind = "maildir"\n'
                      f'address = "bvhk@ind.example"\npath = "{tmp_path / "mail"}"\n', "utf-8")
    for username, role in (("beheer", ["--role", "admin"]), ("coord", ["--role", "coordinator", "--organisation", "IND"])):
        CliRunner().invoke(main, ["--config", str(config), "users", "add", username, *role, "--password-env", "PW"],
                           env={"PW": PASSWORD})
    settings = load_settings(config)
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        repo.beat(session, worker_id="w1", host="server-a", pid=4321, started_at=utcnow() - timedelta(hours=1))
        question = Question(triage_id="k1", mailbox="ind", source_id="1", message_id="<m1@x>")
        session.add(question)
        session.flush()
        session.add(Delivery(question_id=question.id, recipient="a@ind.example", message_id="<d1@x>",
                             status="failed", attempts=10, last_error="550", payload=MAIL))
        session.add(Delivery(question_id=question.id, recipient="b@ind.example", message_id="<d2@x>",
                             status="pending", attempts=2, payload=MAIL))
        repo.audit(session, action="test", actor="test")
        repo.queue_fetched(session, mailbox="ind", items=[("2", MAIL), ("3", MAIL)])  # read, not yet triaged
    return TestClient(create_app(settings), follow_redirects=False), settings, engine


def _sign_in(client, username):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token}).status_code == 303
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/health").text).group(1)


def test_the_figures_say_what_needs_a_person(console):
    _, settings, engine = console
    figures = health(settings, engine)
    assert figures["queue"] == {"waiting": 0, "retrying": 1, "failed": 1, "sent": 0}
    assert [w["worker_id"] for w in figures["workers"]] == ["w1"] and not figures["workers"][0]["stale"]
    assert figures["mailboxes"][0]["name"] == "ind" and figures["mailboxes"][0]["cursor_updated_at"] is None
    assert figures["audit"]["ok"] and not figures["ok"]  # a delivery failed for good
    assert figures["mailboxes"][0]["push"] == ""  # no watcher reported
    assert figures["triage_queue"]["waiting"] == 2 and 0 <= figures["triage_queue"]["oldest_age_seconds"] < 60


def test_the_push_connection_a_worker_reports_is_shown(console):
    client, settings, engine = console
    with unit_of_work(engine) as session:
        repo.beat(session, worker_id="w1", host="server-a", pid=4321, started_at=utcnow() - timedelta(hours=1),
                  push=json.dumps({"ind": "retrying: aanmelden geweigerd"}))
    assert health(settings, engine)["mailboxes"][0]["push"] == "retrying: aanmelden geweigerd"
    _sign_in(client, "beheer")
    assert "onderbroken (aanmelden geweigerd); wordt opnieuw geprobeerd" in client.get("/health").text


def test_monitoring_reads_health_json_with_its_token_only(console):
    client, _, _ = console
    assert client.get("/health.json").status_code == 401
    assert client.get("/health.json", headers={"Authorization": "Bearer fout"}).status_code == 401
    answer = client.get("/health.json", headers={"Authorization": "Bearer token-van-de-monitoring"})
    assert answer.status_code == 503 and answer.json()["queue"]["failed"] == 1
    assert "a@ind.example" not in answer.text and "550" not in answer.text


def test_a_coordinator_reads_health_and_an_admin_retries(console):
    client, _, engine = console
    _sign_in(client, "coord")
    page = client.get("/health")
    assert page.status_code == 200 and "server-a (4321)" in page.text and "Nu opnieuw versturen" not in page.text
    assert re.search(r"<dt>Opgehaald, wachtend op triage</dt><dd>2 \(oudste \d+ s\)</dd>", page.text) or \
        "<dt>Opgehaald, wachtend op triage</dt><dd>2</dd>" in page.text
    assert client.get("/health.json").status_code == 503
    client.cookies.clear()
    token = _sign_in(client, "beheer")
    answer = client.post("/health/retry", data={"csrf": token})
    assert answer.status_code == 200 and "2 bericht(en) opnieuw aangeboden" in answer.text
    with unit_of_work(engine) as session:
        assert repo.delivery_counts(session).get("failed", 0) == 0
