"""The audit log is a chain: an edited, deleted or slipped-in row is found and named."""

from __future__ import annotations

import re
import sqlite3
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlmodel import select

from bot.cli.commands import main
from storage import repo
from storage.audit import verify
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry
from tests.paths import FIXTURES


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_database(url)
    yield engine
    engine.dispose()


def write(engine, n: int, actor: str = "bvhk-triage") -> None:
    for i in range(n):
        with unit_of_work(engine) as s:
            repo.audit(s, action="correction", question_id=i, actor=actor, theme_after="voogdij")


def check(engine):
    with unit_of_work(engine) as s:
        return verify(s)


def test_an_untouched_log_verifies(engine):
    write(engine, 5)
    verdict = check(engine)
    assert verdict.ok and verdict.rows == 5


def test_a_rolled_back_savepoint_leaves_no_row_and_no_gap(engine):
    with unit_of_work(engine) as s:
        repo.audit(s, action="kept")
        try:
            with s.begin_nested():
                repo.audit(s, action="undone")
                raise RuntimeError
        except RuntimeError:
            pass
    with unit_of_work(engine) as s:
        assert [e.action for e in s.exec(select(AuditEntry))] == ["kept"]
    assert check(engine).ok


def test_a_savepoint_within_a_rolled_back_savepoint_leaves_no_row(engine):
    with unit_of_work(engine) as s:
        try:
            with s.begin_nested():
                with s.begin_nested():
                    repo.audit(s, action="inner")  # released, then undone with the savepoint around it
                repo.audit(s, action="outer")
                raise RuntimeError
        except RuntimeError:
            pass
        with s.begin_nested():
            repo.audit(s, action="kept")
    with unit_of_work(engine) as s:
        assert [e.action for e in s.exec(select(AuditEntry))] == ["kept"]
    assert check(engine).ok


def test_the_chain_is_sealed_at_the_commit_after_everything_else_is_written(engine):
    """The chain's lock (PostgreSQL: an advisory lock all workers' commits pass through) is
    taken last: not when a savepoint is released, and not before the transaction's other rows
    are written. Under it run only the read of the chain's end, the audit insert and the commit."""
    statements = []

    def listen(conn, cursor, statement, *args):
        if "pg_advisory_xact_lock" in statement:
            statements.append("LOCK")
        elif found := re.match(r"(INSERT INTO|UPDATE|DELETE FROM|SELECT .*?\sFROM)\s+(\w+)", statement, re.S):
            statements.append(f"{found[1].split()[0]} {found[2]}")

    event.listen(engine, "before_cursor_execute", listen)
    event.listen(engine, "commit", lambda conn: statements.append("COMMIT"))
    with unit_of_work(engine, writes=True) as s:
        with s.begin_nested():
            repo.audit(s, action="triage", question_id=1)
            repo.set_cursor(s, mailbox="ind", value="42")
        s.execute(text("DELETE FROM lease WHERE name = 'geen'"))
    event.remove(engine, "before_cursor_execute", listen)
    lock = ["LOCK"] if engine.dialect.name == "postgresql" else []
    sealing = statements.index("SELECT audit") - len(lock)
    assert statements[sealing:] == [*lock, "SELECT audit", "INSERT audit", "COMMIT"]
    assert "INSERT sync_cursor" in statements[:sealing] and "DELETE lease" in statements[:sealing]
    assert "UPDATE audit" not in statements  # inserted sealed, never updated after
    assert check(engine).ok


@pytest.mark.parametrize("change, problem", [
    ("UPDATE audit SET actor = 'iemand anders' WHERE seq = 3", "regel 3 (nr. 3, correction): gewijzigd"),
    ("UPDATE audit SET detail = '{\"theme_after\": \"strafrecht\"}' WHERE seq = 2", "regel 2 (nr. 2, correction): details gewijzigd"),
    ("DELETE FROM audit WHERE seq = 4", "vóór regel 5 (nr. 5, correction) ontbreken 1 regel(s): nr. 4 t/m 4 zijn verwijderd"),
    ("INSERT INTO audit (at, actor, action, detail, detail_hash, prev_hash, hash) "
     "VALUES ('2026-12-01 10:00:00', 'x', 'correction', '{}', '', '', '')", "regel 6 staat buiten de keten"),
])
def test_tampering_is_named(engine, change, problem):
    write(engine, 5)
    with engine.begin() as conn:
        conn.execute(text(change))
    verdict = check(engine)
    assert not verdict.ok
    assert verdict.problem.startswith(problem)


def test_workers_writing_at_once_make_one_chain(engine):
    errors = []

    def worker():
        try:
            write(engine, 20)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    verdict = check(engine)
    assert verdict.ok and verdict.rows == 80


def test_audit_verify_and_check_fail_after_an_edit_with_sqlite3(tmp_path):
    db = tmp_path / "db.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n[delivery]\nkind = "outbox"\npath = "outbox"\n'
                      f'[routing]\ncontacts = "{FIXTURES / "e2e" / "contacts.csv"}"\n', encoding="utf-8")
    write(open_database(f"sqlite:///{db}"), 3, actor="a.bakker@ind.example")
    runner = CliRunner()
    good = runner.invoke(main, ["--config", str(config), "audit", "verify"])
    assert good.exit_code == 0 and good.output.strip() == "ok    auditlog: 3 regels, keten onbroken"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit SET actor = 'iemand' WHERE seq = 2")
    bad = runner.invoke(main, ["--config", str(config), "audit", "verify"])
    assert bad.exit_code == 1
    assert bad.output.strip() == "FOUT  auditlog: regel 2 (nr. 2, correction): gewijzigd (tijd, wie, actie of vraag)"
    checked = runner.invoke(main, ["--config", str(config), "check"])
    assert checked.exit_code == 1 and "FOUT  auditlog: regel 2" in checked.output
