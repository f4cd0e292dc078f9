"""`run`: the long-running worker. Polls on a schedule (APScheduler) and stops cleanly.

On SIGTERM or SIGINT the scheduler stops taking new jobs and waits for the running poll,
which finishes the message it is handling (each message is one transaction).
"""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.mailing import scheduled_jobs
from bot.settings import Settings
from bot.worker import Runtime, poll

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    runtime = Runtime.start(settings)
    scheduler = BlockingScheduler(timezone="Europe/Amsterdam")

    def poll_job() -> None:
        runtime.refresh_rules()
        report = poll(runtime)
        log.warning(
            "poll: fetched=%d routed=%d review=%d quarantined=%d delivered=%d delivery_failed=%d errors=%d",
            report.fetched, report.routed, report.needs_review, report.quarantined,
            report.delivered, report.delivery_failed, len(report.errors),
        )
        for line in report.errors:
            log.error("%s", line)

    jobs = scheduled_jobs(settings, runtime.engine, runtime.sender) + [
        ("followup", settings.schedule.followup_cron, lambda: _followup(runtime)),
        ("purge", settings.schedule.purge_cron, lambda: _purge(runtime)),
        ("retrain", settings.schedule.retrain_cron, lambda: _retrain(runtime)),
    ]
    for name, cron, job in jobs:
        scheduler.add_job(job, CronTrigger.from_crontab(cron, timezone="Europe/Amsterdam"),
                          id=name, max_instances=1, coalesce=True)
    scheduler.add_job(
        poll_job, IntervalTrigger(minutes=settings.schedule.poll_minutes), id="poll",
        max_instances=1, coalesce=True, next_run_time=_now(),
    )

    def stop(signum, _frame) -> None:
        log.warning("signal %s: stopping after the current message", signum)
        runtime.stopping.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
    runtime.engine.dispose()


def _followup(runtime: Runtime) -> None:
    from bot.followup import run_followups

    counts = run_followups(runtime, today=_now().date())
    log.warning("followup: %s", " ".join(f"{k}={v}" for k, v in counts.items()))


def _purge(runtime: Runtime) -> None:
    from bot.retention import purge

    result = purge(runtime.engine, retention_days=runtime.settings.storage.body_retention_days, dry_run=False)
    log.warning("purge: bodies=%d payloads=%d", result.bodies, result.payloads)


def _retrain(runtime: Runtime) -> None:
    from bot.training import retrain

    outcome = retrain(runtime.settings, ruleset=runtime.ruleset, engine=runtime.engine)
    log.warning("retrain: %s", outcome["message"])
    if outcome["active"]:
        runtime.reload_model()


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
