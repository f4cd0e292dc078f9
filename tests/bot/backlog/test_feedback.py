"""`feedback`: a person corrects a question, found by kenmerk or number, and the audit names them."""

from __future__ import annotations

import getpass
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli.commands import main
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Correction, Question
from tests.paths import FIXTURES


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                    f'[routing]\ncontacts = "{FIXTURES / "e2e" / "contacts.csv"}"\n', encoding="utf-8")
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as s:
        for n, kenmerk in enumerate(("a1b2c3d4e5f6", "123456789012"), start=1):
            s.add(Question(triage_id=kenmerk, mailbox="ind", source_id=f"s{n}", message_id=f"<m{n}@x>",
                           received_at=datetime(2026, 11, 30, 9, tzinfo=timezone.utc), status="review",
                           theme="strafrecht", verdict="question"))
    yield path, engine
    engine.dispose()


def feedback(path, *args):
    return CliRunner().invoke(main, ["--config", str(path), "feedback", *args])


def corrections(engine) -> list[tuple[str, str, str]]:
    with unit_of_work(engine) as s:
        rows = s.exec(select(Question.triage_id, Correction.theme, Correction.by)
                      .join(Question, Question.id == Correction.question_id)).all()
        return [tuple(r) for r in rows]


def test_by_kenmerk_even_one_of_digits_only_and_by_number(config):
    path, engine = config
    assert feedback(path, "123456789012", "--theme", "voogdij").exit_code == 0
    assert feedback(path, "a1b2c3d4e5f6", "--theme", "voogdij").exit_code == 0
    assert feedback(path, "1", "--theme", "gezag-en-omgang").exit_code == 0
    user = getpass.getuser()
    assert corrections(engine) == [("123456789012", "voogdij", user), ("a1b2c3d4e5f6", "voogdij", user),
                                   ("a1b2c3d4e5f6", "gezag-en-omgang", user)]


def test_by_must_be_a_contact_person_and_is_the_audited_actor(config):
    path, engine = config
    refused = feedback(path, "a1b2c3d4e5f6", "--theme", "voogdij", "--by", "Amira Haddad 111222333")
    assert refused.exit_code == 2
    assert refused.output.startswith("bvhk-triage: --by: 'Amira Haddad 111222333' is geen contactpersoon")
    assert corrections(engine) == []
    done = feedback(path, "a1b2c3d4e5f6", "--theme", "voogdij", "--by", "A.Bakker@ind.example")
    assert done.exit_code == 0, done.output
    with unit_of_work(engine) as s:
        assert [(e.action, e.actor) for e in s.exec(select(AuditEntry))] == [("correction", "a.bakker@ind.example")]


def test_an_unknown_question_is_one_line_exit_2(config):
    path, _ = config
    result = feedback(path, "bestaatniet", "--theme", "voogdij")
    assert result.exit_code == 2
    assert result.output.strip() == ("bvhk-triage: vraag 'bestaatniet' niet gevonden (gebruik het nummer of het "
                                     "kenmerk uit de doorgestuurde mail)")
