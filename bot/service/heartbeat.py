"""The heartbeat of `run`: which workers are alive, and what their last poll said.

`run` writes a row (worker id, host, pid, started, last beat, last poll in one line) at
start, every `schedule.heartbeat_seconds` and after every poll, and removes it when it
stops cleanly. `check` shows one line per live worker and warns about stale ones: a
worker that was killed, or that hangs. The status line names counts and servers, never
personal data.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from storage import repo
from storage.db import unit_of_work
from storage.models import Heartbeat, utcnow

log = logging.getLogger(__name__)

FORGET_AFTER = timedelta(days=1)  # a stale row older than this is dropped when a worker starts


def worker_identity(worker_id: str = "") -> str:
    """The configured worker id, else `<host>-<pid>` (unique per process)."""
    return worker_id or f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Pulse:
    engine: Engine
    worker_id: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started_at: datetime = field(default_factory=utcnow)
    push: Callable[[], dict[str, str]] | None = None  # mailbox -> state of its push watcher (bot.service.push)

    def start(self) -> None:
        with unit_of_work(self.engine) as session:
            session.exec(delete(Heartbeat).where(Heartbeat.beat_at < utcnow() - FORGET_AFTER))
        self.beat(status="gestart")

    def beat(self, status: str | None = None) -> None:
        try:
            with unit_of_work(self.engine) as session:
                repo.beat(session, worker_id=self.worker_id, host=self.host, pid=self.pid,
                          started_at=self.started_at, status=status,
                          push=json.dumps(self.push()) if self.push else None)
        except Exception as exc:  # the database is down: the poll reports that itself
            log.error("heartbeat not written (%s)", type(exc).__name__)

    def stop(self) -> None:
        try:
            with unit_of_work(self.engine) as session:
                repo.forget_worker(session, worker_id=self.worker_id)
        except Exception as exc:
            log.error("heartbeat not removed (%s)", type(exc).__name__)


def check_lines(engine: Engine, *, heartbeat_seconds: int, now: datetime | None = None) -> list[str]:
    """For `check`: one line per worker (stale ones as a warning), and the outbox state."""
    now = now or utcnow()
    stale_after = timedelta(seconds=3 * heartbeat_seconds + 10)
    with unit_of_work(engine) as session:
        beats = repo.heartbeats(session)
        counts = repo.delivery_counts(session)
        held = len(repo.in_quarantine(session))
        queued, oldest = repo.queued(session)
    lines = []
    for row in beats:
        age = now - row.beat_at
        who = f"worker {row.worker_id} op {row.host} (pid {row.pid})"
        if age > stale_after:
            lines.append(f"let op {who}: geen hartslag sinds {_ago(age)} (gestopt zonder afmelden, of vastgelopen)")
            continue
        since = row.started_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"ok    {who}: hartslag {_ago(age)} geleden, draait sinds {since}")
        if row.status.startswith("fout"):
            lines.append(f"let op {who} meldt: {row.status}")
    if not beats:
        lines.append("--    geen draaiende worker (start er een met: bvhk-triage run)")
    waiting, failed = counts.get("pending", 0), counts.get("failed", 0)
    lines.append(f"ok    uitgaande berichten: {waiting} wachtend, {counts.get('sent', 0)} verstuurd")
    if failed:
        lines.append(f"let op {failed} uitgaande bericht(en) niet afgeleverd na het maximale aantal pogingen "
                     "(delivery.max_attempts; de fout staat bij elk bericht in de database)")
    if queued and now - oldest > stale_after:
        lines.append(f"let op {queued} opgehaald(e) bericht(en) wachten op triage, het oudste sinds {_ago(now - oldest)} "
                     "(draait er een worker met deze mailboxen in zijn configuratie?)")
    elif queued:
        lines.append(f"ok    {queued} opgehaald(e) bericht(en) wachten op triage")
    if held:
        lines.append(f"let op {held} bericht(en) in quarantaine: niet getrieerd (bvhk-triage quarantine list)")
    return lines


def _ago(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} uur"
