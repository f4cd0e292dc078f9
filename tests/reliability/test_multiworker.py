"""Several workers on one PostgreSQL database.

- Three `run` processes share six mailboxes holding 5,000 messages: every message is
  fetched by one worker only, each worker triages a share, every forward arrives once, and the purge scheduled every
  minute runs once per minute across the three.
- The same mail in two mailboxes, triaged by two workers at the same moment, is forwarded once.
- Three workers triage one busy mailbox together: one reads it, all three triage.
- The mechanisms on their own: a mailbox lease is held by one worker and fences the
  other's commits; queued mail and deliveries are claimed with SKIP LOCKED; a scheduled run
  is claimed once.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import Session

import rules
from bot.service.leases import LeaseLost, mailbox_lease, once_per_schedule
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import Delivery, Lease, Question
from tests.reliability.harness import (
    Database,
    Worker,
    account,
    deliver_to_maildir,
    log_lines,
    maildir_box,
    make_maildir,
    running,
    sample_messages,
    wait_for,
    write_config,
    write_summary,
)



def counted_per_worker(logs, *keys: str) -> list[int]:
    """Each worker's sum of the counts `keys` over its logged rounds (`poll: fetched=N …`, and
    `push:`, `triage:` (a pass over the queue between polls) and `deliver:` alike)."""
    totals = []
    for log in logs:
        total = 0
        for line in log_lines(log):
            job, _, counts = line["message"].partition(": ")
            if job in ("poll", "push", "triage", "deliver"):
                numbers = dict(part.split("=") for part in counts.split() if "=" in part)
                total += sum(int(numbers.get(key, 0)) for key in keys)
        totals.append(total)
    return totals


def fetched_per_worker(logs) -> list[int]:
    """What each worker read from its mailboxes."""
    return counted_per_worker(logs, "fetched")


def handled_per_worker(logs) -> list[int]:
    """What each worker triaged to an outcome: a question, a skip, a quarantine."""
    return counted_per_worker(logs, "triaged", "quarantined", "skipped")


@pytest.mark.server
def test_three_workers_share_5000_messages_each_delivered_once(tmp_path, models, postgres_url, smtp_sink):
    boxes, everything = [], []
    for n in range(6):  # two mailboxes a worker
        messages = sample_messages(834 if n < 2 else 833, tag=f"mw{n}", start=len(everything))
        maildir = make_maildir(tmp_path / "mail" / f"box{n}")
        deliver_to_maildir(maildir, messages)
        boxes.append(maildir_box(f"box{n}", maildir, rules.ORGANISATIONS[n % 3]))
        everything += messages
    sink = smtp_sink
    config = write_config(tmp_path, url=postgres_url, models=models, smtp_port=sink.port, mailboxes=boxes,
                          schedule={"purge_cron": "* * * * *"})
    db = Database(postgres_url)
    workers = [Worker(config, tmp_path / f"worker{n}.log") for n in range(3)]
    started = time.monotonic()
    with running(workers):
        wait_for(lambda: len(db.heartbeat_pids()) == 3, timeout=90, what="three workers")
        all_up = datetime.now(timezone.utc)
        wait_for(lambda: db.done(len(everything)), timeout=300, interval=1, what="5,000 messages handled")
        seconds = time.monotonic() - started
        wait_for(lambda: sum(handled_per_worker(w.log for w in workers)) >= len(everything), timeout=60,
                 what="the last passes to report")
        # the purge runs every minute: let one minute boundary pass with all three running
        boundary = all_up.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=3)
        time.sleep(max(0.0, (boundary - datetime.now(timezone.utc)).total_seconds()))
        wait_for(lambda: db.scalar("SELECT count(*) FROM job_run WHERE finished_at IS NOT NULL") >= 1,
                 timeout=30, what="a finished purge")
        exit_codes = [worker.stop() for worker in workers]
    result = account(db, sink, [mid for mid, _ in everything])
    runs = db.rows("SELECT job, scheduled_for, worker_id FROM job_run ORDER BY scheduled_for")
    purges = db.scalar("SELECT count(*) FROM audit WHERE action = 'purge'")
    db.close()
    fetched = fetched_per_worker(worker.log for worker in workers)
    handled = handled_per_worker(worker.log for worker in workers)
    write_summary("multiworker", {"workers": 3, "seconds_to_done": round(seconds, 1),
                                  "messages_per_second": round(len(everything) / seconds, 1),
                                  "fetched_per_worker": fetched, "handled_per_worker": handled,
                                  "purge_runs": len(runs),
                                  "purge_workers": sorted({r[2] for r in runs}), **result.as_dict()})

    assert exit_codes == [0, 0, 0]
    assert result.missing_items == [] and result.stored == len(everything)
    assert result.lost == [] and result.duplicates == [] and result.resends == 0 and result.not_sent == 0
    assert result.received == result.deliveries
    assert sum(fetched) == len(everything), "a message was fetched by two workers"
    assert all(n > 0 for n in handled) and sum(handled) == len(everything), "every worker triaged a share"
    assert runs and {r[0] for r in runs} == {"purge"}
    assert len({r[1] for r in runs}) == len(runs) == purges  # each scheduled minute ran once, on one worker


@pytest.mark.server
def test_the_same_mail_in_two_mailboxes_read_at_once_is_forwarded_once(tmp_path, models, postgres_url,
                                                                        smtp_sink):
    messages = sample_messages(150, tag="twice")
    boxes = [maildir_box(name, make_maildir(tmp_path / "mail" / name)) for name in ("a", "b")]
    sink = smtp_sink
    config = write_config(tmp_path, url=postgres_url, models=models, smtp_port=sink.port, mailboxes=boxes)
    db = Database(postgres_url)
    workers = [Worker(config, tmp_path / f"worker{n}.log") for n in range(2)]
    with running(workers):
        wait_for(lambda: len(db.heartbeat_pids()) == 2, timeout=90, what="two workers")
        for box in boxes:  # the same mail lands in both mailboxes while both workers are idle
            deliver_to_maildir(box["path"], messages, at_once=True)  # a poll reads all of a mailbox or none
        wait_for(lambda: db.done(2 * len(messages)), timeout=180, interval=0.5, what="both mailboxes handled")
        wait_for(lambda: sum(handled_per_worker(w.log for w in workers)) >= 2 * len(messages), timeout=60,
                 what="the last passes to report")
        exit_codes = [worker.stop() for worker in workers]
    result = account(db, sink, [mid for mid, _ in messages])
    per_message = db.rows("SELECT message_id, count(*) FROM question WHERE verdict = 'question' GROUP BY message_id")
    copies = db.scalar("SELECT count(*) FROM question WHERE verdict = 'duplicate'")
    db.close()
    write_summary("same-mail-two-mailboxes", {**result.as_dict(), "duplicate_verdicts": copies})

    assert exit_codes == [0, 0]
    assert sum(fetched_per_worker(w.log for w in workers)) == 300  # each mailbox read once
    assert all(n > 0 for n in handled_per_worker(w.log for w in workers))  # both triaged, at the same time
    assert all(count == 1 for _, count in per_message)
    assert result.lost == [] and result.duplicates == [] and result.resends == 0
    assert result.deliveries == result.routed + result.review and copies >= result.questions - 5


@pytest.mark.server
def test_three_workers_triage_one_busy_mailbox_together(tmp_path, models, postgres_url, smtp_sink):
    messages = sample_messages(450, tag="one")
    maildir = make_maildir(tmp_path / "mail" / "ind")
    deliver_to_maildir(maildir, messages)
    config = write_config(tmp_path, url=postgres_url, models=models, smtp_port=smtp_sink.port,
                          mailboxes=[maildir_box("ind", maildir)])
    db = Database(postgres_url)
    workers = [Worker(config, tmp_path / f"worker{n}.log") for n in range(3)]
    with running(workers):
        wait_for(lambda: db.done(len(messages)), timeout=300, interval=1, what="450 messages handled")
        wait_for(lambda: sum(handled_per_worker(w.log for w in workers)) >= len(messages), timeout=60,
                 what="the last passes to report")
        exit_codes = [worker.stop() for worker in workers]
    result = account(db, smtp_sink, [mid for mid, _ in messages])
    left = db.scalar("SELECT count(*) FROM inbox")
    db.close()
    fetched = fetched_per_worker(worker.log for worker in workers)
    handled = handled_per_worker(worker.log for worker in workers)
    write_summary("one-mailbox-three-workers", {"fetched_per_worker": fetched, "handled_per_worker": handled,
                                                **result.as_dict()})

    assert exit_codes == [0, 0, 0]
    assert sum(fetched) == len(messages), "a message was read by two workers"
    assert all(n > 0 for n in handled), "a worker triaged nothing of the mailbox another one read"
    assert sum(handled) == len(messages)
    assert result.missing_items == [] and result.stored == len(messages) and left == 0
    assert result.lost == [] and result.duplicates == [] and result.resends == 0 and result.not_sent == 0


# --- the mechanisms on their own -----------------------------------------------------------------
@pytest.fixture
def engines(postgres_url):
    """Two engines on one database, as two workers have."""
    first, second = open_database(postgres_url), open_database(postgres_url)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.mark.server
def test_a_mailbox_lease_is_held_by_one_worker_lapses_and_fences_the_old_holder(engines):
    one, two = engines
    lease_a = mailbox_lease(one, mailbox="ind", holder="worker-a", seconds=30)
    lease_b = mailbox_lease(two, mailbox="ind", holder="worker-b", seconds=30)
    assert lease_a.take()
    assert not lease_b.take()
    assert lease_a.take()  # again: it is its own
    with unit_of_work(one) as session:  # as if worker-a stalled past its term
        session.exec(update(Lease).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert lease_b.take()
    with pytest.raises(LeaseLost):
        with unit_of_work(one) as session:  # worker-a's next message: rolled back
            session.add(Question(triage_id="late", mailbox="ind", source_id="s1", message_id="<late@x>"))
            lease_a.hold(session)
    with unit_of_work(one) as session:
        assert session.get(Question, 1) is None and not repo.is_known(session, mailbox="ind", source_id="s1")
    lease_b.release()
    assert lease_a.take()


@pytest.mark.server
def test_two_workers_racing_for_a_free_lease_one_wins(engines):
    results = []
    barrier = threading.Barrier(2)

    def race(engine, holder):
        barrier.wait()
        results.append(mailbox_lease(engine, mailbox="dtv", holder=holder, seconds=30).take())

    threads = [threading.Thread(target=race, args=(e, f"w{n}")) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]


@pytest.mark.server
def test_deliveries_are_claimed_with_skip_locked(engines):
    one, two = engines
    with unit_of_work(one) as session:
        question = Question(triage_id="t1", mailbox="ind", source_id="s1", message_id="<m1@x>")
        session.add(question)
        session.flush()
        for n in range(2):
            session.add(Delivery(question_id=question.id, recipient=f"r{n}@x", message_id=f"<d{n}@x>", payload=b"x"))
    now = datetime.now(timezone.utc)
    with Session(one) as first, Session(two) as second, Session(two) as third:
        with first.begin(), second.begin(), third.begin():
            claimed = repo.claim_delivery(first, now=now).id
            other = repo.claim_delivery(second, now=now).id  # does not wait for the first
            assert claimed != other
            assert repo.claim_delivery(third, now=now) is None  # both are being sent
    with unit_of_work(one) as session:
        session.get(Delivery, claimed).next_attempt_at = now + timedelta(minutes=5)
    with unit_of_work(two) as session:
        assert repo.claim_delivery(session, now=now).id == other  # the one backing off is not due yet


@pytest.mark.server
def test_queued_mail_is_claimed_with_skip_locked_and_a_lapsed_claim_fences_its_old_holder(engines):
    one, two = engines
    with unit_of_work(one) as session:
        assert repo.queue_fetched(session, mailbox="ind", items=[(f"s{n}", b"raw") for n in range(5)]) == 5
    with unit_of_work(two) as session:  # read again (a cursor set back): nothing is queued twice
        assert repo.queue_fetched(session, mailbox="ind", items=[("s4", b"raw"), ("s5", b"raw")]) == 1
    with Session(one) as first, Session(two) as second:
        with first.begin(), second.begin():
            mine = [i.source_id for i in repo.claim_queued(first, holder="a", mailboxes=["ind"], limit=4, seconds=30)]
            theirs = [i.source_id for i in repo.claim_queued(second, holder="b", mailboxes=["ind"], limit=4,
                                                             seconds=30)]  # does not wait for the first
    assert mine == ["s0", "s1", "s2", "s3"] and theirs == ["s4", "s5"]
    with unit_of_work(two) as session:  # claimed and committed: not claimable by another
        assert repo.claim_queued(session, holder="b", mailboxes=["ind"], limit=10, seconds=30,
                                 passed=[5, 6]) == []
        assert [i.source_id for i in repo.claim_queued(session, holder="c", mailboxes=["ind"], limit=10,
                                                       seconds=30, dead=["a"])] == mine  # a stopped
    with unit_of_work(one) as session:
        assert not repo.unqueue(session, item_id=1, holder="a")  # the fence: c has it now
        assert repo.unqueue(session, item_id=1, holder="c")
        repo.unclaim(session, holder="c")
    with unit_of_work(two) as session:
        assert [i.id for i in repo.claim_queued(session, holder="b", mailboxes=["ind", "dtv"], limit=10,
                                                seconds=30)] == [2, 3, 4, 5, 6]
        assert repo.claim_queued(session, holder="d", mailboxes=["dtv"], limit=10, seconds=30) == []
        assert repo.queued(session)[0] == 5


@pytest.mark.server
def test_a_scheduled_job_runs_once_per_scheduled_minute_across_workers(engines):
    ran: list[str] = []
    minute = datetime(2026, 11, 30, 8, 0, 0, 300_000, tzinfo=timezone.utc)
    barrier = threading.Barrier(4)

    def worker(engine, name, skew):
        barrier.wait()
        once_per_schedule(engine, job="digest", worker_id=name, run=lambda: ran.append(name),
                          now=minute + timedelta(seconds=skew))

    threads = [threading.Thread(target=worker, args=(engines[n % 2], f"w{n}", n * 2.5)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ran) == 1
    once_per_schedule(engines[0], job="digest", worker_id="w0", run=lambda: ran.append("next"),
                      now=minute + timedelta(days=1))
    assert ran[-1] == "next"
