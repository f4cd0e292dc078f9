"""Several workers on one database: a lease per mailbox, and one run per scheduled job.

- A mailbox is polled by one worker at a time. The worker takes the lease
  `mailbox:<name>` (one conditional UPDATE: free, expired or already its own), renews it
  inside every message's transaction (a fence: if another worker took it meanwhile, that
  message's transaction is rolled back and the poll of that mailbox stops), and releases
  it when the mailbox is done. A worker that dies holds it until it lapses
  (`schedule.lease_seconds`), unless it ran on this host: a lease records host and process id,
  and a holder whose process is gone loses it at once; a restart with the same
  `schedule.worker_id` takes it back at once too. Reading is parallel per mailbox; triage is not bound to it.
- Fetched mail waits in the inbox queue until a worker claims it for triage, a batch at a time
  with `SELECT … FOR UPDATE SKIP LOCKED` (`storage.repo.claim_queued`): several workers
  triage what one worker read. A claim lapses like a lease; a dead worker's is taken at once.
- Deliveries are claimed one by one with `SELECT … FOR UPDATE SKIP LOCKED`
  (`storage.repo.claim_delivery`).
- A scheduled job (digest, report, purge, retrain, followup) runs once per scheduled
  minute across workers: the first to insert the `job_run` row for the job and minute runs
  it, the others skip. Cron has minute resolution, and every worker fires when its own
  clock reads that minute, so clock skew of a few seconds does not matter. A worker that
  dies during a job leaves that run undone (at most once); the next schedule runs again.

SQLite has no row locks for SKIP LOCKED: there, run one worker.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import repo
from storage.db import unit_of_work
from storage.models import utcnow

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker holds the lease now: stop what it covers."""


@dataclass(frozen=True)
class Lease:
    engine: Engine
    name: str
    holder: str
    seconds: float

    def take(self) -> bool:
        """Take the lease when it is free, lapsed or ours; or at once when its holder ran on this
        host as a process that no longer runs (killed, say), instead of waiting for it to lapse."""
        with unit_of_work(self.engine) as session:
            held = repo.lease(session, name=self.name)
            dead = [held.holder] if held is not None and _stopped_here(held.host, held.pid) else []
            taken = repo.acquire_lease(session, name=self.name, holder=self.holder, seconds=self.seconds,
                                       host=HOST, pid=os.getpid(), dead=dead)
        if taken and dead and dead[0] != self.holder:
            log.info("lease %s: its holder %s stopped on this host; taken over at once", self.name, dead[0])
        return taken

    def holder_now(self) -> tuple[str, datetime] | None:
        """Who holds the lease and until when (None: nobody)."""
        with unit_of_work(self.engine) as session:
            held = repo.lease(session, name=self.name)
            return (held.holder, held.expires_at) if held is not None and held.holder else None

    def hold(self, session: Session) -> None:
        """Renew inside the caller's transaction; raise LeaseLost (rolling it back) when taken."""
        if not repo.renew_lease(session, name=self.name, holder=self.holder, seconds=self.seconds):
            raise LeaseLost(self.name)

    def release(self) -> None:
        try:
            with unit_of_work(self.engine) as session:
                repo.release_lease(session, name=self.name, holder=self.holder)
        except Exception as exc:  # the database is gone: the lease lapses by itself
            log.warning("lease %s not released (%s); it lapses after its term", self.name, type(exc).__name__)


HOST = socket.gethostname()


def _stopped_here(host: str, pid: int) -> bool:
    """True when `pid` ran on this host and runs no more."""
    if host != HOST or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def stopped_workers(engine: Engine) -> list[str]:
    """Workers whose heartbeat says they ran on this host, as a process that runs no more: what
    they claimed is taken over at once instead of when the claim lapses."""
    with unit_of_work(engine) as session:
        return [beat.worker_id for beat in repo.heartbeats(session) if _stopped_here(beat.host, beat.pid)]


def mailbox_lease(engine: Engine, *, mailbox: str, holder: str, seconds: float) -> Lease:
    return Lease(engine, f"mailbox:{mailbox}", holder, seconds)


def once_per_schedule(engine: Engine, *, job: str, worker_id: str, run: Callable[[], None],
                      now: datetime | None = None) -> bool:
    """Run `run` unless another worker runs this job for this scheduled minute. True if it ran."""
    scheduled_for = (now or utcnow()).replace(second=0, microsecond=0)
    with unit_of_work(engine) as session:
        if not repo.claim_job_run(session, job=job, scheduled_for=scheduled_for, worker_id=worker_id):
            log.info("%s %s: another worker runs it", job, scheduled_for.isoformat(timespec="minutes"))
            return False
    outcome = "ok"
    try:
        run()
    except Exception as exc:
        outcome = type(exc).__name__
        raise
    finally:
        with unit_of_work(engine) as session:
            repo.finish_job_run(session, job=job, scheduled_for=scheduled_for, outcome=outcome)
    return True
