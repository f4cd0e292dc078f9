"""Corrections from marks: the pure mapping, then IMAP (a private Dovecot, a keyword set with
imapclient as a contact person would), EWS and Graph (the fake endpoints), and one whole poll."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

import rules
from bot.backlog import corrections
from bot.backlog.corrections import correction_for, mark_key, meanings
from bot.ingest.mailboxes.base import Marked
from bot.ingest.mailboxes.ews import EwsMailbox
from bot.ingest.mailboxes.graph import GraphMailbox
from bot.ingest.mailboxes.imap import ImapMailbox, keyword
from bot.settings import DEFAULT_RULES, EwsSettings, GraphSettings
from bot.settings import ImapSettings
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Correction, Question

RULESET = rules.load_ruleset(DEFAULT_RULES)
STRAFRECHT, VOOGDIJ = "BvhK Strafrecht", "BvhK Voogdij en alleenstaande minderjarigen"
ADDRESS = "bvhk@ind.example"


def imap_settings(**overrides) -> ImapSettings:
    values = dict(kind="imap", name="test", organisation="IND", address=ADDRESS, host="127.0.0.1",
                  username="u", password_env="P", corrections_from_marks=True)
    return ImapSettings.model_validate(values | overrides)


def question(n: int) -> bytes:
    return (f"From: jurist@rvdk.example\r\nTo: {ADDRESS}\r\nSubject: Vraag {n}\r\n"
            f"Message-ID: <vraag-{n}@rvdk.example>\r\n\r\nTekst van vraag {n}.\r\n").encode()


# --- the pure part ------------------------------------------------------------------------
def test_theme_marks_follow_mark_theme_and_correction_marks_add_to_them(caplog):
    config = imap_settings(correction_marks={"Naar RvdK": "RvdK", "Voogdij": "voogdij", "Iets": "onbekend"})
    table = meanings(config, RULESET)
    assert table[mark_key(VOOGDIJ)] == ("theme", "voogdij")
    assert table[mark_key(keyword(STRAFRECHT))] == ("theme", "strafrecht")  # as Dovecot stores it
    assert table[mark_key("naar rvdk")] == ("organisation", "RvdK")
    assert table[mark_key("Voogdij")] == ("theme", "voogdij")
    assert len([m for m in table.values() if m[0] == "theme"]) == len(RULESET.theme_keys()) + 1
    assert "onbekend" in caplog.text
    assert meanings(imap_settings(mark_theme="BvhK"), RULESET) == {}  # every theme the same mark: says nothing
    assert meanings(imap_settings(mark_theme=""), RULESET) == {}


def test_only_a_single_new_label_is_a_correction():
    table = meanings(imap_settings(correction_marks={"Naar RvdK": "RvdK"}), RULESET)
    asked = Question(triage_id="t", mailbox="test", source_id="s", message_id="<m>", theme="strafrecht",
                     organisation="IND")
    assert correction_for(asked, [STRAFRECHT, "BvhK Anna Bakker"], table, []) == (None, None)  # the product's own
    assert correction_for(asked, [STRAFRECHT, VOOGDIJ], table, []) == ("voogdij", None)
    assert correction_for(asked, [keyword(VOOGDIJ), "Naar_RvdK"], table, []) == ("voogdij", "RvdK")
    assert correction_for(asked, [VOOGDIJ, "BvhK Chavez-zaken"], table, []) == (None, None)  # ambiguous
    earlier = [Correction(question_id=1, theme="voogdij", organisation="RvdK")]
    assert correction_for(asked, [VOOGDIJ, "Naar RvdK"], table, earlier) == (None, None)  # recorded before
    assert correction_for(asked, [VOOGDIJ, "BvhK Chavez-zaken"], table, earlier) == ("chavez", None)


# --- against a database -------------------------------------------------------------------
@pytest.fixture
def engine(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield engine
    engine.dispose()


def store(engine, source_id: str, *, theme: str = "strafrecht", mailbox: str = "test", verdict: str = "question"):
    with unit_of_work(engine) as session:
        session.add(Question(triage_id=uuid.uuid4().hex[:12], mailbox=mailbox, source_id=source_id,
                             message_id=source_id, theme=theme, organisation="IND", verdict=verdict,
                             status="routed" if verdict == "question" else "skipped"))


def recorded(engine) -> list[tuple[str, str, str | None, str]]:
    with unit_of_work(engine) as session:
        return [(q.source_id, c.theme, c.organisation, c.by) for c, q in repo.corrections(session)]


class Marks:
    """A mailbox with the capability and nothing else: what it hands out, and the cursors asked."""

    name = "test"

    def __init__(self, *batches: list[Marked]) -> None:
        self.batches, self.cursors = list(batches), []

    def changed_marks(self, cursor: str):
        self.cursors.append(cursor)
        return (self.batches.pop(0) if self.batches else []), f"c{len(self.cursors)}"


def test_a_correction_is_stored_audited_and_never_twice(engine):
    store(engine, "<a>")
    store(engine, "<b>", verdict="auto_reply")
    config = imap_settings()
    box = Marks([Marked("<a>", (VOOGDIJ,)), Marked("<b>", (VOOGDIJ,)), Marked("<unknown>", (VOOGDIJ,))],
                [Marked("<a>", (VOOGDIJ, STRAFRECHT))])
    assert corrections.from_marks(engine, box, config, ruleset=RULESET) == 1
    assert corrections.from_marks(engine, box, config, ruleset=RULESET) == 0
    assert box.cursors == ["", "c1"]
    assert recorded(engine) == [("<a>", "voogdij", None, "mailbox:test")]
    with unit_of_work(engine) as session:
        assert repo.question_for_item(session, mailbox="test", source_id="<a>").corrected
        (entry,) = session.exec(repo.select(AuditEntry)).all()
        assert (entry.action, entry.actor, entry.detail) == ("correction", "mailbox:test", {
            "via": "marks", "theme_before": "strafrecht", "theme_after": "voogdij"})
        assert repo.get_cursor(session, mailbox="test", folder="marks") == "c2"


def test_nothing_is_read_unless_switched_on(engine):
    box = Marks([Marked("<a>", (VOOGDIJ,))])
    assert corrections.from_marks(engine, box, imap_settings(corrections_from_marks=False), ruleset=RULESET) == 0
    assert box.cursors == []


# --- IMAP: a private Dovecot --------------------------------------------------------------
@pytest.mark.server
def test_imap_keywords_a_contact_person_sets_are_corrections(engine, dovecot, imap_user):
    dovecot.append(imap_user, [question(1), question(2)])
    store(engine, "<vraag-1@rvdk.example>")
    store(engine, "<vraag-2@rvdk.example>")
    mailbox = ImapMailbox(**dovecot.mailbox_config(imap_user))
    config = imap_settings()
    try:
        mailbox.mark("<vraag-1@rvdk.example>", [STRAFRECHT])  # the product's mark: no correction
        person = dovecot.client(imap_user)  # a contact person in their mail client
        person.select_folder("INBOX")
        uid_1, uid_2 = sorted(person.search(["ALL"]))
        person.add_flags([uid_2], [keyword(VOOGDIJ).encode()])
        # first read (no cursor): the newest items; the keyword set before is found
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 1
        with unit_of_work(engine) as session:
            cursor = repo.get_cursor(session, mailbox="test", folder="marks")
        validity, modseq = map(int, cursor.split(":"))
        assert validity and modseq  # Dovecot has CONDSTORE: from now on CHANGEDSINCE
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
        # the contact person changes the product's theme into another theme
        person.remove_flags([uid_1], [keyword(STRAFRECHT).encode()])
        person.add_flags([uid_1], [keyword(VOOGDIJ).encode(), b"\\Flagged"])
        person.logout()
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 1
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
    finally:
        mailbox.close()
    assert sorted(recorded(engine)) == [("<vraag-1@rvdk.example>", "voogdij", None, "mailbox:test"),
                                        ("<vraag-2@rvdk.example>", "voogdij", None, "mailbox:test")]


@pytest.mark.server
def test_imap_without_condstore_reads_the_newest_items(engine, dovecot, imap_user, monkeypatch):
    from bot.ingest.mailboxes import imap

    dovecot.append(imap_user, [question(n) for n in (1, 2, 3)])
    for n in (1, 2, 3):
        store(engine, f"<vraag-{n}@rvdk.example>")
    person = dovecot.client(imap_user)
    person.select_folder("INBOX")
    person.add_flags(person.search(["ALL"]), [keyword(VOOGDIJ).encode()])
    person.logout()
    monkeypatch.setattr(imap, "MARKS_RECENT", 2)
    mailbox = ImapMailbox(**dovecot.mailbox_config(imap_user))
    real = mailbox._status
    monkeypatch.setattr(mailbox, "_status", lambda folder: real(folder).__class__(
        real(folder).uidvalidity, real(folder).uidnext, 0))  # a server without CONDSTORE
    try:
        assert corrections.from_marks(engine, mailbox, imap_settings(), ruleset=RULESET) == 2
    finally:
        mailbox.close()
    assert sorted(r[0] for r in recorded(engine)) == ["<vraag-2@rvdk.example>", "<vraag-3@rvdk.example>"]


# --- EWS and Graph: the fake endpoints ----------------------------------------------------
def ews_settings(fake, tls_files) -> EwsSettings:
    return EwsSettings.model_validate(dict(
        kind="ews", name="test", organisation="IND", address=ADDRESS, service_endpoint=fake.endpoint, auth="basic",
        username=fake.username, password_env="BVHK_TEST_EWS", ca_file=tls_files.ca, max_wait_seconds=5,
        corrections_from_marks=True, correction_marks={"Naar RvdK": "RvdK"}))


def test_ews_categories_a_contact_person_sets_are_corrections(engine, fake_ews, tls_files):
    from tests.servers import MNS, TNS

    config = ews_settings(fake_ews, tls_files)
    mailbox = EwsMailbox(config, fake_ews.password)
    first, second = fake_ews.add("inbox", question(1)), fake_ews.add("inbox", question(2))
    store(engine, first.id)
    store(engine, second.id)
    mailbox.mark(first.id, [STRAFRECHT])  # the product's category: no correction
    assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
    sync = [c for c in fake_ews.calls if c.operation == "SyncFolderItems"][-1]
    shape = sync.xml.find(f".//{{{MNS}}}ItemShape")
    assert [p.get("FieldURI") for p in shape.iter(f"{{{TNS}}}FieldURI")] == ["item:Categories"]
    # a contact person in Outlook: another theme on the first, an organisation on the second
    first.categories = [VOOGDIJ]
    fake_ews.change("inbox", first, "Update")
    second.categories = ["Naar RvdK", "Eigen categorie"]
    fake_ews.change("inbox", second, "Update")
    assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 2
    assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
    assert sorted(recorded(engine)) == sorted([(first.id, "voogdij", None, "mailbox:test"),
                                               (second.id, "strafrecht", "RvdK", "mailbox:test")])
    fake_ews.invalidate_sync_states()  # a state the server forgot: all marks again, nothing twice
    assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0


def test_graph_categories_a_contact_person_sets_are_corrections(engine, fake_graph, tls_files):
    config = GraphSettings.model_validate(dict(
        kind="graph", name="test", organisation="IND", address=ADDRESS, tenant_id=fake_graph.idp.tenant,
        client_id=fake_graph.idp.client_id, client_secret_env="BVHK_TEST_GRAPH", base_url=fake_graph.base_url,
        authority=fake_graph.base, ca_file=tls_files.ca, max_wait_seconds=5, corrections_from_marks=True))
    mailbox = GraphMailbox(config, fake_graph.idp.client_secret)
    try:
        message = fake_graph.add("inbox", question(1))
        store(engine, message.id)
        mailbox.mark(message.id, [STRAFRECHT])
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
        message.categories = [VOOGDIJ]  # a contact person in Outlook
        fake_graph.log["inbox"].append(("updated", message))
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 1
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
        fake_graph.expire_delta_links()
        assert corrections.from_marks(engine, mailbox, config, ruleset=RULESET) == 0
    finally:
        mailbox.close()
    assert recorded(engine) == [(message.id, "voogdij", None, "mailbox:test")]
    deltas = [p for p in fake_graph.paths() if "/messages/delta" in p]
    assert deltas and "$select=categories" in deltas[0] and "changeType" not in deltas[0]


# --- one whole poll -----------------------------------------------------------------------
from tests.paths import ROOT
E2E = ROOT / "tests" / "fixtures" / "e2e"


@pytest.mark.server
def test_a_poll_reads_a_contact_persons_keyword_as_a_correction(tmp_path, models, dovecot, imap_user, monkeypatch):
    from bot.cli.commands import main

    monkeypatch.setenv("BVHK_TEST_IMAP", dovecot.password)
    dovecot.append(imap_user, [], folder="Sent")
    dovecot.append(imap_user, [(E2E / "02-vraag-strafrecht.eml").read_bytes()])
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
url = "sqlite:///db.sqlite3"
[[mailboxes]]
name = "ind"
organisation = "IND"
address = "{ADDRESS}"
kind = "imap"
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "{imap_user}"
password_env = "BVHK_TEST_IMAP"
corrections_from_marks = true
[routing]
contacts = "{E2E / 'contacts.csv'}"
[classifier]
models = "models"
min_confidence = 0.0
""", encoding="utf-8")
    poll = lambda: CliRunner().invoke(main, ["--config", str(config), "poll", "--json"])  # noqa: E731
    result = poll()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["triaged"] == 1
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        (asked,) = session.exec(repo.select(Question)).all()
    other = next(k for k in RULESET.theme_keys() if k != asked.theme)
    person = dovecot.client(imap_user)
    person.select_folder("INBOX")
    person.add_flags(person.search(["ALL"]), [keyword(f"BvhK {RULESET.theme_name(other)}").encode()])
    person.logout()
    for _ in range(2):
        again = poll()
        assert again.exit_code == 0, again.output
    assert [(c.theme, c.by) for c, _ in _corrections(engine)] == [(other, "mailbox:ind")]
    engine.dispose()


def _corrections(engine):
    with unit_of_work(engine) as session:
        return list(repo.corrections(session))
