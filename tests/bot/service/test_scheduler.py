"""`run` stops cleanly on SIGTERM from the moment it says it runs (its first heartbeat), even
while its scheduler hands out the first jobs: the signal handler only sets a flag, and the
main thread stops the scheduler. (Stopping it in the handler itself deadlocked now and then: the
interrupted main thread held a lock that the job threads, and so the shutdown, waited for.)"""

from __future__ import annotations

from tests.reliability.harness import Database, Worker, maildir_box, make_maildir, wait_for, write_config

STARTS = 8


def test_sigterm_at_the_first_heartbeat_stops_the_worker_cleanly(tmp_path, models):
    maildir = make_maildir(tmp_path / "mail" / "ind")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = write_config(tmp_path, url=url, models=models, smtp_port=None, mailboxes=[maildir_box("ind", maildir)])
    db = Database(url)
    codes = []
    try:
        for n in range(STARTS):
            worker = Worker(config, tmp_path / f"worker{n}.log")
            try:
                worker.start()
                wait_for(lambda: worker.pid in db.heartbeat_pids(), timeout=90, interval=0.002, what="the heartbeat")
                codes.append(worker.stop(timeout=30))  # raises when the worker does not stop
            finally:
                worker.ensure_gone()
    finally:
        db.close()
    assert codes == [0] * STARTS
