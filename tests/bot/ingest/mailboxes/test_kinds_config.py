"""Configuration of the imap, ews and graph kinds and of smtp delivery; no server needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.outgoing import DeliveryError, open_sender
from bot.ingest.mailboxes import mark_question, open_mailbox
from bot.outgoing import MailboxSender
from bot.ingest.mailboxes.base import mark_labels
from bot.ingest.mailboxes.ews import EwsMailbox
from bot.ingest.mailboxes.graph import GraphMailbox
from bot.ingest.mailboxes.imap import ImapMailbox
from bot.settings import ConfigError, load_settings
from bot.outgoing.smtp import SmtpSender

from tests.paths import ROOT


def uncommented_example(tmp_path: Path) -> Path:
    """config.example.toml with its commented imap, ews and graph tables and smtp keys switched on."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    blocks = re.findall(r"(?m)^# \[\[mailboxes\]\]\n(?:#.*\n)+", text)
    assert len(blocks) == 3
    for block in blocks:
        live = "\n".join(re.sub(r"^# ?", "", line) for line in block.splitlines()
                         if not re.match(r"^#\s+#", line)) + "\n"
        text = text.replace(block, live)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_documents_every_kind_and_it_validates(tmp_path):
    settings = load_settings(uncommented_example(tmp_path))
    kinds = {m.name: m.kind for m in settings.mailboxes}
    assert kinds == {"ind": "maildir", "dtv": "imap", "rvdk": "ews", "ind-online": "graph"}
    imap, ews = settings.mailbox("dtv"), settings.mailbox("rvdk")
    assert imap.move_to == "" and imap.mark_theme == "BvhK {theme_name}" and imap.since.isoformat() == "2026-12-01"
    assert ews.auth == "ntlm" and ews.username == "RVDK\\svc-bvhk" and ews.max_wait_seconds == 300


def test_every_key_of_the_kinds_is_in_the_example():
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    from bot.settings import DeliverySettings, EwsSettings as E, GraphSettings as G, ImapSettings as I

    for model in (I, E, G, DeliverySettings):
        for name, info in model.model_fields.items():
            key = info.alias or name
            assert re.search(rf"\b{key}\s*=|#\s+{key}\s", text), f"{model.__name__}.{key} undocumented"


def test_open_mailbox_makes_each_kind_without_connecting(tmp_path, monkeypatch):
    monkeypatch.setenv("BVHK_DTV_IMAP_PASSWORD", "x")
    monkeypatch.setenv("BVHK_RVDK_EWS_PASSWORD", "x")
    monkeypatch.setenv("BVHK_GRAPH_SECRET", "x")
    settings = load_settings(uncommented_example(tmp_path))
    assert isinstance(open_mailbox(settings.mailbox("dtv")), ImapMailbox)
    assert isinstance(open_mailbox(settings.mailbox("rvdk")), EwsMailbox)
    assert isinstance(open_mailbox(settings.mailbox("ind-online")), GraphMailbox)


def test_a_secret_not_in_the_environment_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.delenv("BVHK_DTV_IMAP_PASSWORD", raising=False)
    settings = load_settings(uncommented_example(tmp_path))
    with pytest.raises(ConfigError, match="BVHK_DTV_IMAP_PASSWORD"):
        open_mailbox(settings.mailbox("dtv"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


EWS = '[[mailboxes]]\nname = "x"\nkind = "ews"\norganisation = "IND"\naddress = "a@b"\n'


@pytest.mark.parametrize("extra, message", [
    ("", "server or service_endpoint"),
    ('server = "m"\n', "needs username, password_env"),
    ('server = "m"\nauth = "oauth2"\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "S"\n',
     'needs access = "impersonation"'),
    ('server = "m"\nservice_endpoint = "https://m/EWS/Exchange.asmx"\nusername = "u"\npassword_env = "P"\n', "not both"),
])
def test_ews_settings_name_what_is_missing(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(write(tmp_path, EWS + extra))


def test_a_mark_template_with_an_unknown_placeholder_names_the_key(tmp_path):
    text = ('[[mailboxes]]\nname = "x"\nkind = "imap"\norganisation = "IND"\naddress = "a@b"\nhost = "h"\n'
            'username = "u"\npassword_env = "P"\nmark_theme = "BvhK {onderwerp}"\n')
    with pytest.raises(ConfigError, match=r"config.toml:9: sleutel 'mailboxes\[0\].mark_theme'.*onderwerp"):
        load_settings(write(tmp_path, text))


def test_mark_labels_follow_the_templates():
    class Config:
        mark_theme, mark_assignee, mark_review = "BvhK {theme_name}", "BvhK {assignee_name}", "BvhK te beoordelen"

    routed = mark_labels(Config, theme="voogdij", theme_name="Voogdij", assignee="a@x", assignee_name="Anna",
                         review=False)
    assert routed == ["BvhK Voogdij", "BvhK Anna"]
    assert mark_labels(Config, theme="voogdij", theme_name=None, assignee=None, assignee_name=None,
                       review=True) == ["BvhK voogdij", "BvhK te beoordelen"]
    Config.mark_assignee = ""
    assert mark_labels(Config, theme=None, theme_name=None, assignee="a@x", assignee_name=None, review=False) == []


def test_mark_question_marks_only_routed_and_review_and_never_fails_the_poll(caplog):
    from bot.ingest.mailboxes.base import MailboxError

    class Box:
        can_mark = True
        marked: list = []

        def mark(self, source_id, labels):
            if source_id == "kapot":
                raise MailboxError("map weg")
            self.marked.append((source_id, labels))

    class Config:
        name, mark_theme, mark_assignee, mark_review, move_to = "ind", "T {theme}", "A {assignee}", "R", ""

    class Question:
        def __init__(self, source_id, status):
            self.source_id, self.status, self.mailbox = source_id, status, "ind"
            self.theme, self.assignee, self.triage_id = "strafrecht", "a@x", "t1"

    box = Box()
    for source_id, status in (("1", "routed"), ("2", "review"), ("3", "skipped"), ("kapot", "routed")):
        mark_question(box, Config, Question(source_id, status))
    assert box.marked == [("1", ["T strafrecht", "A a@x"]), ("2", ["T strafrecht", "R"])]
    assert "marking question t1 failed: map weg" in caplog.text


def test_open_sender_for_smtp_and_mailbox(monkeypatch, tmp_path):
    monkeypatch.setenv("BVHK_SMTP_PASSWORD", "x")
    monkeypatch.setenv("BVHK_RVDK_EWS_PASSWORD", "x")
    settings = load_settings(write(tmp_path, EWS + 'server = "m"\nusername = "u"\npassword_env = "BVHK_RVDK_EWS_PASSWORD"\n'
                                   '[delivery]\nkind = "smtp"\nhost = "smtp.example"\nusername = "u"\n'
                                   'password_env = "BVHK_SMTP_PASSWORD"\n'))
    assert isinstance(open_sender(settings.delivery), SmtpSender)
    by_mailbox = settings.delivery.model_copy(update={"kind": "mailbox", "mailbox": "x"})
    assert isinstance(open_sender(by_mailbox, mailboxes=settings.mailboxes), MailboxSender)
    with pytest.raises(DeliveryError, match="geen ews- of graph-mailbox"):
        open_sender(by_mailbox.model_copy(update={"mailbox": "y"}), mailboxes=settings.mailboxes)
