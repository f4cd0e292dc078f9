"""Who may see what, local accounts, the limit on sign-in attempts, roles from OpenID Connect
claims, the `users` commands, and sessions that expire (through Starlette's TestClient)."""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from bot.cli.commands import main
from bot.errors import ActionError
from bot.settings import Settings
from bot.web.access import Person, scope
from bot.web.accounts import Throttle, add, verify
from bot.web.signin import person_from_claims
from storage.console import Scope
from storage.db import open_database, unit_of_work
from storage.models import WebUser
from tests.paths import SAMPLE

MAILBOXES = {"ind": "IND", "dtv": "DT&V", "rvdk": "RvdK"}


def test_each_role_has_its_scope():
    assert scope(Person("a", "admin"), MAILBOXES) == Scope()
    assert scope(Person("c", "contact", email="S.Verbeek@ind.example"), MAILBOXES) == Scope(assignee="s.verbeek@ind.example")
    assert scope(Person("c", "contact"), MAILBOXES) is None  # no address: nothing
    assert scope(Person("k", "coordinator", organisation="IND"), MAILBOXES) == Scope(organisation="IND", mailboxes=("ind",))
    assert scope(Person("k", "coordinator", organisation="IND", region="Zwolle"), MAILBOXES).region == "Zwolle"
    assert scope(Person("r", "reader"), MAILBOXES) is None


@pytest.fixture
def engine(tmp_path):
    return open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")


def test_accounts_hash_the_password_and_verify_it(engine):
    with unit_of_work(engine) as session:
        add(session, username="coord-ind", role="coordinator", organisation="IND", password="lang-genoeg-wachtwoord")
    with unit_of_work(engine) as session:
        stored = session.get(WebUser, "coord-ind")
        assert stored.password_hash.startswith("$argon2id$") and "lang-genoeg" not in stored.password_hash
        assert verify(session, username="coord-ind", password="lang-genoeg-wachtwoord").organisation == "IND"
        assert verify(session, username="coord-ind", password="fout") is None
        assert verify(session, username="niemand", password="lang-genoeg-wachtwoord") is None


@pytest.mark.parametrize("options, message", [
    ({"role": "baas"}, "onbekende rol"),
    ({"role": "coordinator"}, "organisatie"),
    ({"role": "contact"}, "e-mailadres"),
    ({"role": "admin", "password": "kort"}, "te kort"),
    ({"role": "admin", "username": "met spatie"}, "gebruikersnaam"),
])
def test_an_account_that_cannot_work_is_refused_in_dutch(engine, options, message):
    arguments = {"username": "iemand", "password": "lang-genoeg-wachtwoord"} | options
    with unit_of_work(engine) as session, pytest.raises(ActionError, match=message):
        add(session, **arguments)


def test_the_throttle_blocks_after_five_failures_per_name_or_address():
    throttle = Throttle(attempts=5, window=60)
    for _ in range(4):
        throttle.failed("user:a", "client:1")
    assert not throttle.blocked("user:a", "client:2")
    throttle.failed("user:a", "client:1")
    assert throttle.blocked("user:a", "client:2") and throttle.blocked("user:b", "client:1")
    throttle.succeeded("user:a", "client:1")
    assert not throttle.blocked("user:a", "client:1")
    quick = Throttle(attempts=1, window=0.05)
    quick.failed("user:x")
    time.sleep(0.1)
    assert not quick.blocked("user:x")


def test_roles_from_claims_or_from_the_contacts_file():
    settings = Settings.model_validate({"routing": {"contacts": str(SAMPLE / "contacts.csv")},
                                        "web": {"oidc": {"issuer": "https://idp.example", "organisation_claim": "org"}}})
    admin = person_from_claims({"preferred_username": "beheer", "roles": ["admin"]}, settings)
    assert (admin.role, admin.via) == ("admin", "oidc")
    coordinator = person_from_claims({"email": "x@ind.example", "roles": "coordinator", "org": "IND"}, settings)
    assert (coordinator.role, coordinator.organisation) == ("coordinator", "IND")
    contact = person_from_claims({"email": "S.Verbeek@ind.example"}, settings)  # no role claim: the contacts file
    assert (contact.role, contact.email) == ("contact", "s.verbeek@ind.example")
    assert person_from_claims({"email": "onbekend@elders.example"}, settings) is None


def _config(tmp_path) -> str:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                      f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
                      '[web]\nsession_minutes = 1\n', "utf-8")
    return str(config)


def test_users_add_list_remove_through_the_cli(tmp_path):
    config = _config(tmp_path)
    env = {"WACHTWOORD": "een-goed-wachtwoord"}
    runner = CliRunner()
    added = runner.invoke(main, ["--config", config, "users", "add", "coord-ind", "--role", "coordinator",
                                 "--organisation", "IND", "--password-env", "WACHTWOORD"], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["--config", config, "users", "list", "--json"])
    assert [(u["username"], u["role"], u["organisation"]) for u in json.loads(listed.stdout)] == [("coord-ind", "coordinator", "IND")]
    assert "wachtwoord" not in listed.stdout and "argon2" not in listed.stdout
    refused = runner.invoke(main, ["--config", config, "users", "add", "x", "--role", "contact",
                                   "--password-env", "WACHTWOORD"], env=env)
    assert refused.exit_code == 2 and "e-mailadres" in refused.stderr and "Traceback" not in refused.output
    assert runner.invoke(main, ["--config", config, "users", "remove", "coord-ind"]).exit_code == 0
    gone = runner.invoke(main, ["--config", config, "users", "remove", "coord-ind"])
    assert gone.exit_code == 2 and "geen account" in gone.stderr


@pytest.fixture
def client(tmp_path, monkeypatch):
    from bot.settings import load_settings
    from bot.web.app import create_app

    monkeypatch.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-test-0123456789")
    config = _config(tmp_path)
    CliRunner().invoke(main, ["--config", config, "users", "add", "beheer", "--role", "admin",
                              "--password-env", "WACHTWOORD"], env={"WACHTWOORD": "een-goed-wachtwoord"})
    return TestClient(create_app(load_settings(tmp_path / "config.toml")), follow_redirects=False)


def _sign_in(client, username="beheer", password="een-goed-wachtwoord"):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf": token})


def test_a_session_ends_when_idle_and_a_removed_account_at_its_next_page(client, tmp_path):
    assert _sign_in(client).status_code == 303
    assert client.get("/backlog").status_code == 200
    cookie = client.cookies.get("bvhk_sessie")
    assert cookie
    real = time.time
    try:
        time.time = lambda: real() + 61  # session_minutes = 1
        assert client.get("/backlog").headers["location"] == "/login"
    finally:
        time.time = real
    assert _sign_in(client).status_code == 303
    CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), "users", "remove", "beheer"])
    assert client.get("/backlog").headers["location"] == "/login"


def test_sign_in_attempts_are_limited(client):
    for _ in range(5):
        assert _sign_in(client, password="fout").status_code == 401
    answer = _sign_in(client)  # the right password, too late
    assert answer.status_code == 429 and "Te veel mislukte pogingen" in answer.text


def test_the_login_form_needs_its_csrf_token(client):
    client.get("/login")
    answer = client.post("/login", data={"username": "beheer", "password": "een-goed-wachtwoord"})
    assert answer.status_code == 403


def test_every_response_carries_the_security_headers(client):
    for path in ("/login", "/backlog", "/static/console.css", "/bestaat-niet"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_the_demo_makes_one_account_per_role_with_a_new_password(tmp_path):
    from bot.cli.demo import demo_accounts

    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{tmp_path / 'db.sqlite3'}"}})
    made = demo_accounts(settings)
    assert sorted(role for _, role, _ in made) == ["admin", "contact", "coordinator", "reader"]
    again = demo_accounts(settings)
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        for (username, role, old), (_, _, new) in zip(made, again):
            assert old != new and verify(session, username=username, password=old) is None
            assert verify(session, username=username, password=new).role == role


def test_behind_a_proxy_under_a_base_path(tmp_path, monkeypatch):
    """public_url with a path: served there whether the proxy strips the path or not; links,
    forms and the cookie carry it; the cookie is Secure under https."""
    from bot.settings import load_settings
    from bot.web.app import create_app

    monkeypatch.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-test-0123456789")
    config = _config(tmp_path)
    with open(config, "a", encoding="utf-8") as handle:
        handle.write('public_url = "https://bvhk.example.nl/triage"\n')
    CliRunner().invoke(main, ["--config", config, "users", "add", "beheer", "--role", "admin",
                              "--password-env", "WACHTWOORD"], env={"WACHTWOORD": "een-goed-wachtwoord"})
    app = create_app(load_settings(tmp_path / "config.toml"))
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    stripping = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/triage/login")
    assert page.status_code == 200 and 'action="/triage/login"' in page.text
    assert 'href="/triage/static/console.css"' in page.text
    assert stripping.get("/login").status_code == 200  # a proxy that strips the base path
    assert client.get("/triage/static/console.css").status_code == 200
    cookie = page.headers["set-cookie"]
    assert "path=/triage/" in cookie and "secure" in cookie.lower() and "samesite=strict" in cookie.lower()
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    signed = client.post("/triage/login", data={"username": "beheer", "password": "een-goed-wachtwoord", "csrf": token})
    assert signed.headers["location"] == "/triage/"
    assert client.get("/triage/backlog").status_code == 200
    assert client.get("/triage/health").status_code == 200


def test_the_contacts_list_goes_out_and_comes_back_in_with_line_and_column_named(tmp_path, monkeypatch):
    from bot.settings import load_settings
    from bot.web.app import create_app

    monkeypatch.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-test-0123456789")
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes((SAMPLE / "contacts.csv").read_bytes())
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                      f'[routing]\ncontacts = "{contacts}"\n', "utf-8")
    for username, role in (("beheer", ["--role", "admin"]), ("coord", ["--role", "coordinator", "--organisation", "RvdK"])):
        CliRunner().invoke(main, ["--config", str(config), "users", "add", username, *role, "--password-env", "PW"],
                           env={"PW": "een-goed-wachtwoord"})
    client = TestClient(create_app(load_settings(config)), follow_redirects=False)
    _sign_in(client, "coord", "een-goed-wachtwoord")
    mine = client.get("/contacts.csv").text.splitlines()
    assert len(mine) > 1 and all(",RvdK," in line for line in mine[1:])
    client.cookies.clear()
    _sign_in(client, "beheer", "een-goed-wachtwoord")
    whole = client.get("/contacts.csv").text
    assert whole == contacts.read_text("utf-8-sig")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/contacts").text).group(1)
    broken = whole.replace(",IND,", ",INDD,", 1)
    answer = client.post("/contacts/import", data={"csrf": token}, files={"file": ("lijst.csv", broken.encode())})
    assert answer.status_code == 422 and "Niet geïmporteerd" in answer.text
    assert "contacts.csv:2: column &#39;organisation&#39;" in answer.text  # file, line and column, as `contacts import`
    assert contacts.read_text("utf-8-sig") == whole  # nothing replaced
    fewer = "\n".join(whole.splitlines()[:-1]) + "\n"
    answer = client.post("/contacts/import", data={"csrf": token}, files={"file": ("lijst.csv", fewer.encode())})
    assert answer.status_code == 200 and "geïmporteerd" in answer.text
    assert contacts.read_text("utf-8") == fewer
