from datetime import datetime, timedelta, timezone

from sqlmodel import select

from bot.backlog.retention import purge
from storage.db import open_database, unit_of_work
from storage import audit
from storage.models import AuditEntry, Delivery, Original, Question

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def fill(engine):
    with unit_of_work(engine) as s:
        for n, age in enumerate((1, 10, 40, 90)):
            q = Question(triage_id=f"t{n}", mailbox="ind", source_id=f"s{n}", message_id=f"<m{n}>",
                         created_at=NOW - timedelta(days=age), body="[NAAM] vraagt iets", theme="voogdij",
                         subject="Voogdij [NAAM]", sender="ouder@privé.example", sender_domain="privé.example",
                         sender_hash=f"h{n}", explanation=["voogdij", "nidos"])
            s.add(q)
            s.flush()
            s.add(Delivery(question_id=q.id, recipient="a@x", message_id=f"<d{n}>", payload=b"mail",
                           status="pending" if n == 0 else "sent"))
            s.add(Original(question_id=q.id, raw=b"From: ouder@example\n\nvraag", stored_at=q.created_at))
            audit.record(s, action="assign", question_id=q.id, actor="a@x", at=q.created_at, reason="kent de zaak",
                         assignee="a@x")


def test_purge_drops_old_text_and_spent_payloads_keeps_labels(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fill(engine)
    dry = purge(engine, retention_days=30, dry_run=True, now=NOW)
    assert (dry.bodies, dry.payloads, dry.originals, dry.audit_details) == (2, 3, 2, 2)
    with unit_of_work(engine) as s:
        assert sum(q.body is not None for q in s.exec(select(Question))) == 4  # dry run changed nothing

    done = purge(engine, retention_days=30, dry_run=False, now=NOW)
    assert (done.bodies, done.payloads, done.originals, done.audit_details) == (2, 3, 2, 2)
    with unit_of_work(engine) as s:
        questions = {q.triage_id: q for q in s.exec(select(Question))}
        assert questions["t0"].body and questions["t1"].body
        assert questions["t2"].body is None and questions["t3"].body is None
        for old in (questions["t2"], questions["t3"]):  # what it said and who said it: gone
            assert (old.subject, old.sender, old.explanation) == ("", "", [])
            assert (old.sender_domain, old.sender_hash) != ("", "")  # counts still possible
        assert questions["t1"].sender == "ouder@privé.example"  # still open for a reply
        assert len(s.exec(select(Original)).all()) == 2
        details = [e.detail for e in s.exec(select(AuditEntry).where(AuditEntry.action == "assign"))]
        assert details.count(None) == 2 and sum(bool(d) for d in details) == 2
        assert audit.verify(s).ok  # the chain still proves the rows whose text went
        assert all(q.theme == "voogdij" for q in questions.values())  # labels stay
        payloads = [d.payload for d in s.exec(select(Delivery).order_by(Delivery.id))]
        assert payloads == [b"mail", None, None, None]  # the pending one is still needed
        [entry] = s.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
        assert entry.detail["bodies"] == 2

    again = purge(engine, retention_days=30, dry_run=False, now=NOW)
    assert (again.bodies, again.payloads, again.originals, again.audit_details) == (0, 0, 0, 0)


def test_purge_keeps_the_newest_model_versions_and_the_active_one(tmp_path):
    from classifiers import ModelStore

    models = tmp_path / "models"
    for version in ("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"):
        (models / version).mkdir(parents=True)
        (models / version / "metadata.json").write_text("{}")
    ModelStore(models)._write_history(["2026-01-01", "2026-02-01"])  # the second is active, two newer wait
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    dry = purge(engine, retention_days=30, dry_run=True, now=NOW, models=models, keep_models=2)
    assert dry.models == ("2026-01-01",) and (models / "2026-01-01").is_dir()
    purge(engine, retention_days=30, dry_run=False, now=NOW, models=models, keep_models=2)
    assert sorted(p.name for p in models.iterdir() if p.is_dir()) == ["2026-02-01", "2026-03-01", "2026-04-01"]
    assert ModelStore(models).active_version() == "2026-02-01"


def test_sqlite_zeroes_what_it_deletes(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    fill(engine)
    purge(engine, retention_days=0, dry_run=False, now=NOW + timedelta(days=1))
    engine.dispose()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("db.sqlite3*"))
    assert b"ouder@priv" not in on_disk and b"kent de zaak" not in on_disk and b"vraagt iets" not in on_disk
