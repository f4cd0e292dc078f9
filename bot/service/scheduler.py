"""`run`: the long-running worker. Polls on a schedule (APScheduler) and stops cleanly.

On SIGTERM or SIGINT the scheduler stops taking new jobs and waits for the running poll,
which finishes the message it is handling (each message is one transaction).

Several `run` processes may share one PostgreSQL database (`bot.service.leases`): each polls, a
mailbox is read by one of them at a time, and each scheduled job (digest, report,
followup, purge, retrain) runs once per schedule, on whichever worker claims it first.
Each writes a heartbeat (`bot.service.heartbeat`) that `check` reports.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.reports.mailing import scheduled_jobs
from bot.service.heartbeat import Pulse
from bot.service.leases import once_per_schedule
from bot.service.push import start_watchers
from bot.service.worker import PollReport, Runtime, poll, send_pending, triage_queued
from bot.settings import Settings
from classifiers import deidentify

log = logging.getLogger(__name__)

QUEUE_SECONDS = 5  # how often a worker looks for mail another worker queued
STOP_CHECK_SECONDS = 0.2  # how soon the main thread acts on SIGTERM/SIGINT (the handler only sets a flag)


class _QuietOverlap(logging.Filter):
    """A poll or sending round that outlasts its interval is normal: no warning each second."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def run_worker(settings: Settings, *, beside=None) -> None:
    """The worker until SIGTERM/SIGINT. `beside(settings, engine)`, when given, starts a server
    in this process (the web console with [web] in_run) and returns it; it is told to stop with
    the worker (its `should_exit`)."""
    runtime = Runtime.start(settings)
    if deidentify.mode() == "deduce":  # loaded before the first heartbeat: a started worker is ready to work
        started = time.monotonic()
        log.info("loading deduce (the first time after an install it builds its lists: 1-2 minutes)")
        deidentify.load()
        log.info("deduce loaded in %.1f s", time.monotonic() - started)
    scheduler = BackgroundScheduler(timezone="Europe/Amsterdam")
    logging.getLogger("apscheduler.scheduler").addFilter(_QuietOverlap())

    def stop(signum, _frame) -> None:
        # only a flag: the main thread, waiting below, stops the scheduler. Stopping it here could
        # wait on a lock that the interrupted main thread holds (it was handing a job to a thread).
        log.info("signal %s: stopping after the current message", signum)
        runtime.stopping.set()

    # before the first heartbeat: a worker that says it runs stops cleanly on SIGTERM from then on
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pulse = Pulse(runtime.engine, runtime.worker_id)
    pulse.start()
    log.info("worker %s started", runtime.worker_id)
    problems: dict[str, str] = {}  # a mailbox, or "aflevering" -> what is wrong with it now
    changed: dict[str, float] = {}  # -> when that last changed (monotonic clock)
    recording = threading.Lock()  # polls, pushes and queue passes end in their own threads

    def record(job: str, report: PollReport, *, covers: set[str], started: float) -> None:
        """Log a round (counts only), and what went wrong once per change of state: a mailbox
        or the delivery server that fails says so once, and once more when it works again.
        `covers`: what this round spoke to (a sending round with nothing due spoke to nobody).
        A round that began before the last change of a state says nothing of it: a push that
        read a mailbox before it went down, and ended after, does not call it reachable."""
        numbers = {key: value for key, value in report.as_dict().items() if isinstance(value, int) and value}
        numbers["skipped"] = sum(report.skipped.values())
        numbers["errors"] = len(report.errors)
        counts = " ".join(f"{key}={value}" for key, value in numbers.items() if value) or "nothing new"
        if any(numbers.values()):
            log.info("%s: %s", job, counts)
        now = {line.split(": ", 1)[0]: line for line in report.errors}
        with recording:
            for key in covers | set(now):
                line, before = now.get(key, ""), problems.get(key, "")
                if line == before or started < changed.get(key, started):
                    continue
                if line:
                    log.error("%s", line)
                else:
                    log.info("%s: reachable again", key)
                problems[key], changed[key] = line, time.monotonic()
            trouble = next((line for line in problems.values() if line), "")
        pulse.beat(status=f"fout: {trouble}" if trouble else f"ok: {counts}")

    def polled(names) -> set[str]:
        return {f"mailbox {name}" for name in names}

    def poll_job() -> None:
        started = time.monotonic()
        runtime.refresh_rules()
        report = poll(runtime)
        record("poll", report, covers=polled(m.name for m in settings.mailboxes) | _sent(report), started=started)

    def pushed(name: str) -> None:  # a watcher saw mail arrive: read that mailbox now, and send
        started = time.monotonic()
        report = poll(runtime, mailboxes=[name], wait_to_send=True)
        record("push", report, covers=polled([name]) | _sent(report), started=started)

    def triage_job() -> None:  # mail another worker (or this one's last poll) queued: triaged, then sent
        started = time.monotonic()
        report = PollReport()
        triage_queued(runtime, report, between_polls=True)
        if report.triaged:
            send_pending(runtime, report)  # unless the sending round runs now: it sends them
        record("triage", report, covers=_sent(report), started=started)

    def deliver_job() -> None:  # sends while a long poll still runs
        started = time.monotonic()
        report = PollReport()
        send_pending(runtime, report)
        record("deliver", report, covers=_sent(report), started=started)

    jobs = scheduled_jobs(settings, runtime.engine, runtime.sender) + [
        ("followup", settings.schedule.followup_cron, lambda: _followup(runtime)),
        ("purge", settings.schedule.purge_cron, lambda: _purge(runtime)),
        ("retrain", settings.schedule.retrain_cron, lambda: _retrain(runtime)),
    ]
    for name, cron, job in jobs:
        scheduler.add_job(_once(runtime, name, job), CronTrigger.from_crontab(cron, timezone="Europe/Amsterdam"),
                          id=name, max_instances=1, coalesce=True)
    every = ({"seconds": settings.schedule.poll_seconds} if settings.schedule.poll_seconds
             else {"minutes": settings.schedule.poll_minutes})
    scheduler.add_job(
        poll_job, IntervalTrigger(**every), id="poll",
        max_instances=1, coalesce=True, next_run_time=_now(),
    )
    scheduler.add_job(triage_job, IntervalTrigger(seconds=min(settings.schedule.poll_seconds or QUEUE_SECONDS,
                                                              QUEUE_SECONDS)),
                      id="triage", max_instances=1, coalesce=True, next_run_time=_now())
    scheduler.add_job(deliver_job, IntervalTrigger(seconds=min(settings.schedule.poll_seconds or 30, 30)),
                      id="deliver", max_instances=1, coalesce=True, next_run_time=_now())
    scheduler.add_job(pulse.beat, IntervalTrigger(seconds=settings.schedule.heartbeat_seconds), id="heartbeat",
                      max_instances=1, coalesce=True)

    watchers = start_watchers(settings.mailboxes, on_new=pushed, stopping=runtime.stopping) if settings.schedule.push else []
    pulse.push = lambda: {watcher.config.name: watcher.state for watcher in watchers}
    console = beside(settings, runtime.engine) if beside else None
    if console is not None:
        log.info("web console on %s:%s", settings.web.host, settings.web.port)
    scheduler.start()  # its jobs run in threads; this thread waits for a signal
    while not runtime.stopping.is_set():
        time.sleep(STOP_CHECK_SECONDS)
    scheduler.shutdown(wait=True)  # the jobs running now end after their current message
    for watcher in watchers:
        watcher.join(timeout=10)
    if console is not None:
        console.should_exit = True
    pulse.stop()
    log.info("worker %s stopped", runtime.worker_id)
    runtime.engine.dispose()


def _sent(report: PollReport) -> set[str]:
    """The delivery server was spoken to when something was delivered (or failed to be)."""
    return {"aflevering"} if report.delivered or report.delivery_failed else set()


def _once(runtime: Runtime, name: str, job):
    """The job, run by one worker per scheduled minute (bot.service.leases.once_per_schedule)."""

    def run() -> None:
        once_per_schedule(runtime.engine, job=name, worker_id=runtime.worker_id, run=job)

    return run


def _followup(runtime: Runtime) -> None:
    from bot.backlog.followup import run_followups

    counts = run_followups(runtime, today=_now().date())
    log.info("followup: %s", " ".join(f"{k}={v}" for k, v in counts.items()))


def _purge(runtime: Runtime) -> None:
    from bot.backlog.retention import purge

    settings = runtime.settings
    result = purge(runtime.engine, retention_days=settings.storage.body_retention_days, dry_run=False,
                   models=settings.classifier.models, keep_models=settings.privacy.keep_models)
    log.info("purge: bodies=%d payloads=%d originals=%d audit_details=%d models=%d", result.bodies,
             result.payloads, result.originals, result.audit_details, len(result.models))


def _retrain(runtime: Runtime) -> None:
    from bot.triage.training import retrain

    outcome = retrain(runtime.settings, ruleset=runtime.ruleset, engine=runtime.engine)
    log.info("retrain: %s", outcome["message"])
    if outcome["active"]:
        runtime.reload_model()


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
