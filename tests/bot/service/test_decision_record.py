"""The stored question explains every decision: which screening rules said yes and no, where the
organisation came from and with that label's confidence, the region located and the region where
the contact person was found, the due date and what set it; and a contact person's answer in the
inbox is recognised by the pipeline and recorded by the worker. Real .eml files, the real CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli.commands import main
from bot.ingest.parse import parse_message
from bot.triage.pipeline import model_text
from classifiers import ModelStore
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Question
from tests.paths import FIXTURES, ROOT

E2E = FIXTURES / "e2e"
OTS = (E2E / "01-vraag-ots.eml").read_bytes()


def deliver(maildir: Path, name: str, raw: bytes) -> None:
    (maildir / "tmp" / name).write_bytes(raw)
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def with_id(raw: bytes, n: int, subject: str | None = None) -> bytes:
    raw = raw.replace(b"<e2e-0001@rvdk.example>", f"<dec-{n}@rvdk.example>".encode())
    if subject:
        raw = raw.replace(b"Subject: Vraag over verblijf bij ondertoezichtstelling", f"Subject: {subject}".encode())
    return raw


@pytest.fixture
def setup(tmp_path, models):
    maildir = tmp_path / "mail" / "ind"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "data", rules_dir)
    with open(rules_dir / "routing.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[[rule]]\nname = "spoed-vandaag"\nwords = ["spoed"]\ndue_days = 0\n')

    def write(organisation: str = "IND", min_confidence: float = 0.2) -> Path:
        config = tmp_path / "config.toml"
        config.write_text(f"""
[storage]
url = "sqlite:///db.sqlite3"
[[mailboxes]]
name = "ind"
organisation = "{organisation}"
address = "bvhk@ind.example"
kind = "maildir"
path = "mail/ind"
[delivery]
kind = "outbox"
from = "bvhk-triage@bvhk.example"
path = "outbox"
[routing]
rules = "{rules_dir}"
contacts = "{E2E / 'contacts.csv'}"
[classifier]
models = "{models}"
min_confidence = {min_confidence}
""", encoding="utf-8")
        return config

    return tmp_path, maildir, write


def poll(config: Path) -> dict:
    result = CliRunner().invoke(main, ["--config", str(config), "poll", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(root: Path) -> dict[str, Question]:
    engine = open_database(f"sqlite:///{root / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        rows = {q.message_id: q for q in session.exec(select(Question))}
    engine.dispose()
    return rows


def test_a_rules_due_days_of_zero_is_the_day_of_arrival_and_names_the_rule(setup):
    root, maildir, write = setup
    deliver(maildir, "1.1.t", with_id(OTS, 1, subject="SPOED: verblijf bij ondertoezichtstelling"))
    deliver(maildir, "2.2.t", with_id(OTS, 2))
    poll(write())
    questions = stored(root)
    urgent, plain = questions["<dec-1@rvdk.example>"], questions["<dec-2@rvdk.example>"]
    assert (urgent.due_on, urgent.due_rule) == (date(2026, 11, 16), "spoed-vandaag")  # Monday, the day it came
    assert plain.due_rule == "thema kinderbeschermingsmaatregelen" and plain.due_on > date(2026, 11, 16)


def test_the_region_located_and_the_region_where_the_person_was_found_after_overflow(setup):
    root, maildir, write = setup
    for n in range(1, 4):  # Zwolle's one contact person has room for two
        deliver(maildir, f"{n}.{n}.t", with_id(OTS, n))
    poll(write())
    third = stored(root)["<dec-3@rvdk.example>"]
    assert (third.region, third.region_found) == ("Zwolle", "Den Haag")
    assert third.assignee in {"a.bakker@ind.example", "b.smit@ind.example"}
    assert third.screen_hits == [] and "duplicate" in third.screen_misses and "answer" in third.screen_misses
    with unit_of_work(open_database(f"sqlite:///{root / 'db.sqlite3'}")) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.question_id == third.id)).one()
        assert entry.detail["assignee"] == third.assignee


def test_a_mailbox_fallback_stores_the_mailboxs_organisation_with_its_own_confidence(setup, models):
    root, maildir, write = setup
    deliver(maildir, "1.1.t", with_id(OTS, 1))
    poll(write(organisation="DT&V", min_confidence=0.95))  # no tuned threshold to move from: the mailbox decides
    question = stored(root)["<dec-1@rvdk.example>"]
    model = ModelStore(models).load()
    message = parse_message(with_id(OTS, 1), mailbox="ind", source_id="x")
    guess = model.predict(model_text(message))["organisation"]
    assert guess.label != "DT&V"  # the model's own best guess is another organisation
    assert (question.organisation, question.organisation_source) == ("DT&V", "mailbox")
    assert question.organisation_confidence == pytest.approx(guess.probabilities["DT&V"])
    assert question.organisation_confidence != pytest.approx(guess.confidence)


def test_a_contact_persons_answer_in_the_inbox_answers_its_question(setup):
    root, maildir, write = setup
    config = write()
    deliver(maildir, "1.1.t", with_id(OTS, 1))
    assert poll(config)["routed"] == 1
    forward = next((root / "outbox").glob("*/new/*")).read_bytes()
    forward_id = next(line.split(b":", 1)[1].strip().decode() for line in forward.splitlines()
                      if line.startswith(b"Message-ID:"))
    reply = (f"From: Dirk Visser <d.visser@ind.example>\r\nTo: m.verbeek@rvdk.example\r\nCc: bvhk@ind.example\r\n"
             f"Subject: RE: Vraag over verblijf\r\nDate: Tue, 17 Nov 2026 10:00:00 +0100\r\n"
             f"Message-ID: <antwoord-1@ind.example>\r\nIn-Reply-To: {forward_id}\r\n\r\nHierbij ons antwoord.\r\n")
    deliver(maildir, "2.2.t", reply.encode())
    report = poll(config)
    assert report["skipped"]["answer"] == 1 and report["answered"] == 1 and report["routed"] == 0
    questions = stored(root)
    assert questions["<dec-1@rvdk.example>"].status == "answered"
    answer = questions["<antwoord-1@ind.example>"]
    # it also refers to a known question (a follow-up would), but the answer rule comes first
    assert (answer.verdict, answer.status, answer.screen_hits) == ("answer", "skipped", ["answer", "follow_up"])
    assert answer.thread_of == questions["<dec-1@rvdk.example>"].id
