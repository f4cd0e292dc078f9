from datetime import datetime, timedelta, timezone

from sqlmodel import select

from bot.backlog.retention import purge
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Delivery, Question

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def fill(engine):
    with unit_of_work(engine) as s:
        for n, age in enumerate((1, 10, 40, 90)):
            q = Question(triage_id=f"t{n}", mailbox="ind", source_id=f"s{n}", message_id=f"<m{n}>",
                         created_at=NOW - timedelta(days=age), body="[NAAM] vraagt iets", theme="voogdij")
            s.add(q)
            s.flush()
            s.add(Delivery(question_id=q.id, recipient="a@x", message_id=f"<d{n}>", payload=b"mail",
                           status="pending" if n == 0 else "sent"))


def test_purge_drops_old_text_and_spent_payloads_keeps_labels(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fill(engine)
    dry = purge(engine, retention_days=30, dry_run=True, now=NOW)
    assert (dry.bodies, dry.payloads) == (2, 3)
    with unit_of_work(engine) as s:
        assert sum(q.body is not None for q in s.exec(select(Question))) == 4  # dry run changed nothing

    done = purge(engine, retention_days=30, dry_run=False, now=NOW)
    assert (done.bodies, done.payloads) == (2, 3)
    with unit_of_work(engine) as s:
        questions = {q.triage_id: q for q in s.exec(select(Question))}
        assert questions["t0"].body and questions["t1"].body
        assert questions["t2"].body is None and questions["t3"].body is None
        assert all(q.theme == "voogdij" for q in questions.values())  # labels stay
        payloads = [d.payload for d in s.exec(select(Delivery).order_by(Delivery.id))]
        assert payloads == [b"mail", None, None, None]  # the pending one is still needed
        [entry] = s.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
        assert entry.detail["bodies"] == 2

    again = purge(engine, retention_days=30, dry_run=False, now=NOW)
    assert (again.bodies, again.payloads) == (0, 0)
