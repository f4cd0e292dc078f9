"""The schema comes from the migrations, on SQLite and on the real PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from storage import repo
from storage.db import HEAD, MIGRATIONS, migrate, open_database, schema_version, unit_of_work
from storage.models import Correction, Delivery, Question, SQLModel


def database(kind: str, tmp_path, request) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    engine = open_database(database(request.param, tmp_path, request))
    yield engine
    engine.dispose()


def question(n: int, **fields) -> Question:
    base = dict(triage_id=f"t{n}", mailbox="ind", source_id=f"s{n}", message_id=f"<m{n}@x>",
                received_at=datetime(2026, 11, 2, 9, tzinfo=timezone.utc) + timedelta(hours=n),
                status="routed", assignee="a@ind.example", due_on=date(2026, 11, 16))
    return Question(**(base | fields))


def test_migrations_create_exactly_the_model_tables(engine):
    tables = set(inspect(engine).get_table_names())
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == HEAD


def test_head_names_the_newest_migration_so_an_up_to_date_database_skips_alembic(tmp_path, monkeypatch):
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD  # a new migration moves HEAD
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert schema_version(engine) == HEAD
    import alembic.command

    monkeypatch.setattr(alembic.command, "upgrade", lambda *args: pytest.fail("Alembic was asked again"))
    migrate(engine)
    with engine.begin() as conn:  # one behind: Alembic brings it up
        conn.execute(text("DROP TABLE inbox"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    monkeypatch.undo()
    migrate(engine)
    assert schema_version(engine) == HEAD and "inbox" in inspect(engine).get_table_names()
    engine.dispose()


def test_migrations_create_exactly_the_model_columns(engine):
    inspector = inspect(engine)
    for name, table in SQLModel.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name


def test_migrating_twice_is_harmless(engine):
    with unit_of_work(engine) as s:
        s.add(question(1))
    with engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar()
    again = open_database(engine.url.render_as_string(hide_password=False))
    try:
        with again.connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar() == version
            assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
        with unit_of_work(again) as s:
            assert [q.triage_id for q in s.exec(select(Question))] == ["t1"]
    finally:
        again.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_writing_transaction_rolls_back_what_its_savepoint_wrote(engine):
    # SQLite: without BEGIN at once, the savepoint begins a transaction of its own, which its
    # release commits; the question then stayed although the transaction rolled back
    with pytest.raises(RuntimeError), unit_of_work(engine, writes=True) as session:
        with session.begin_nested():
            session.add(question(1))
        session.add(question(2))
        session.flush()
        raise RuntimeError("a failure after the savepoint")
    with unit_of_work(engine) as session:
        assert session.exec(select(Question.id)).all() == []
    with unit_of_work(engine, writes=True) as session:
        with session.begin_nested():
            session.add(question(1))
        session.add(question(2))
    with unit_of_work(engine) as session:
        assert sorted(session.exec(select(Question.triage_id)).all()) == ["t1", "t2"]


def test_cursor_round_trip_and_known_items(engine):
    with unit_of_work(engine) as s:
        assert repo.get_cursor(s, mailbox="ind") == ""
        repo.set_cursor(s, mailbox="ind", value="42")
        s.add(question(1))
    with unit_of_work(engine) as s:
        assert repo.get_cursor(s, mailbox="ind") == "42"
        assert repo.is_known(s, mailbox="ind", source_id="s1")
        assert not repo.is_known(s, mailbox="ind", source_id="s2")
        assert repo.message_id_seen(s, message_id="<m1@x>")


def test_open_counts_and_overdue(engine):
    with unit_of_work(engine) as s:
        s.add(question(1))
        s.add(question(2, due_on=date(2026, 12, 30)))
        s.add(question(3, status="answered"))
        s.add(question(4, assignee="b@ind.example"))
    with unit_of_work(engine) as s:
        assert repo.open_counts(s) == {"a@ind.example": 2, "b@ind.example": 1}
        overdue = repo.open_questions(s, overdue_on=date(2026, 11, 20))
        assert [q.triage_id for q in overdue] == ["t1", "t4"]


def test_quarantine_becomes_final_after_the_allowed_tries(engine):
    for attempt in (1, 2, 3):
        with unit_of_work(engine) as s:
            entry = repo.quarantine(s, mailbox="ind", source_id="bad", fingerprint="f", reason="kapot", final_after=3)
            assert entry.final == (attempt == 3)
        with unit_of_work(engine) as s:
            assert repo.is_known(s, mailbox="ind", source_id="bad") == (attempt == 3)


def test_one_delivery_per_question_recipient_and_purpose(engine):
    from sqlalchemy.exc import IntegrityError

    with unit_of_work(engine) as s:
        s.add(question(1))
        s.flush()
        qid = s.exec(select(Question.id)).one()
        s.add(Delivery(question_id=qid, recipient="a@ind.example", message_id="<d1@x>", payload=b"x"))
    with pytest.raises(IntegrityError):
        with unit_of_work(engine) as s:
            s.add(Delivery(question_id=qid, recipient="a@ind.example", message_id="<d2@x>", payload=b"x"))


def test_absences_and_corrections(engine):
    with unit_of_work(engine) as s:
        repo.add_absence(s, email="a@ind.example", start=date(2026, 12, 1), end=date(2026, 12, 5))
        s.add(question(1))
        s.flush()
        qid = s.exec(select(Question.id)).one()
        repo.add_correction(s, correction=Correction(question_id=qid, theme="voogdij", by="tester"))
    with unit_of_work(engine) as s:
        assert repo.absent_on(s, day=date(2026, 12, 3)) == {"a@ind.example"}
        assert repo.absent_on(s, day=date(2026, 12, 6)) == set()
        [(correction, q)] = repo.corrections(s)
        assert correction.theme == "voogdij" and q.triage_id == "t1"
