"""How the service is doing, as figures: the workers' heartbeats, each mailbox's lease and
cursor and push connection, fetched mail waiting for triage, the send queue, the quarantine, the audit chain and the scheduled jobs. Shown by the
console's /health page and served to monitoring as /health.json; nothing personal in it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.settings import Settings
from storage import repo
from storage.audit import verify as verify_audit
from storage.db import unit_of_work
from storage.models import Delivery, JobRun, SyncCursor, utcnow


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=timezone.utc) if when is not None and when.tzinfo is None else when


def _iso(when: datetime | None) -> str | None:
    return _aware(when).isoformat(timespec="seconds") if when else None


def health(settings: Settings, engine: Engine, *, now: datetime | None = None) -> dict:
    """The figures; `ok` is false when a worker is stale, a delivery failed for good, or the
    audit chain is broken."""
    now = now or utcnow()
    stale_after = timedelta(seconds=3 * settings.schedule.heartbeat_seconds + 10)
    with unit_of_work(engine) as session:
        beats = repo.heartbeats(session)
        leases = {lease.name: lease for lease in repo.leases(session)}
        cursors = {}
        for cursor in session.exec(select(SyncCursor)).all():
            known = cursors.get(cursor.mailbox)
            if known is None or _aware(cursor.updated_at) > known:
                cursors[cursor.mailbox] = _aware(cursor.updated_at)
        queue = dict(session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        queue["waiting"] = session.exec(select(func.count()).where(Delivery.status == "pending",
                                                                   Delivery.attempts == 0)).one()
        queue["retrying"] = session.exec(select(func.count()).where(Delivery.status == "pending",
                                                                    Delivery.attempts > 0)).one()
        held = len(repo.in_quarantine(session))
        fetched, oldest = repo.queued(session)
        verdict = verify_audit(session)
        last = (select(JobRun.job, func.max(JobRun.scheduled_for)).group_by(JobRun.job))
        jobs = []
        for job, scheduled in session.exec(last).all():
            run = session.get(JobRun, (job, scheduled))
            jobs.append({"job": job, "scheduled_for": _iso(run.scheduled_for), "worker": run.worker_id,
                         "finished_at": _iso(run.finished_at), "outcome": run.outcome or "bezig"})
    workers, push = [], {}
    for beat in sorted(beats, key=lambda b: _aware(b.beat_at)):  # the freshest worker's word counts
        if (now - _aware(beat.beat_at)) <= stale_after:
            push.update(_push_states(beat.push))
    for beat in beats:
        age = (now - _aware(beat.beat_at)).total_seconds()
        workers.append({"worker_id": beat.worker_id, "host": beat.host, "pid": beat.pid,
                        "started_at": _iso(beat.started_at), "beat_at": _iso(beat.beat_at),
                        "age_seconds": round(age), "stale": age > stale_after.total_seconds(),
                        "last_error": beat.status if beat.status.startswith("fout") else ""})
    mailboxes = []
    for mailbox in settings.mailboxes:
        lease = leases.get(f"mailbox:{mailbox.name}")
        held_now = lease is not None and lease.holder and _aware(lease.expires_at) > now
        cursor = cursors.get(mailbox.name)
        mailboxes.append({"name": mailbox.name, "kind": mailbox.kind, "organisation": mailbox.organisation,
                          "last_poll_at": _iso(lease.acquired_at) if lease else None,  # each poll takes the lease
                          "lease_holder": lease.holder if held_now else "",
                          "lease_until": _iso(lease.expires_at) if held_now else None,
                          "cursor_updated_at": _iso(cursor),
                          "cursor_age_seconds": round((now - cursor).total_seconds()) if cursor else None,
                          "push": push.get(mailbox.name, "")})
    figures = {"waiting": queue.get("waiting", 0), "retrying": queue.get("retrying", 0),
               "failed": queue.get("failed", 0), "sent": queue.get("sent", 0)}
    ok = verdict.ok and not figures["failed"] and not any(w["stale"] for w in workers)
    return {"ok": ok, "checked_at": _iso(now), "workers": workers, "mailboxes": mailboxes, "queue": figures,
            "quarantine": held,
            "triage_queue": {"waiting": fetched,
                             "oldest_age_seconds": round((now - oldest).total_seconds()) if oldest else None},
            "audit": {"ok": verdict.ok, "rows": verdict.rows, "problem": verdict.problem},
            "jobs": sorted(jobs, key=lambda j: j["job"])}


def _push_states(text: str) -> dict[str, str]:
    """A heartbeat's push column: mailbox -> the watcher's state (`bot.service.push.Watcher.state`)."""
    try:
        states = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in states.items()} if isinstance(states, dict) else {}


def retry_now(engine: Engine, *, actor: str) -> int:
    """Every delivery not sent yet is due now; those given up after the last attempt get their
    attempts back. Returns how many; audited."""
    with unit_of_work(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.status.in_(("pending", "failed")))).all()
        for delivery in rows:
            if delivery.status == "failed":
                delivery.status, delivery.attempts = "pending", 0
            delivery.next_attempt_at = None
            session.add(delivery)
        repo.audit(session, action="queue:retry", actor=actor, deliveries=len(rows))
    return len(rows)
