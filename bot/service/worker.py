"""One poll: read what is new into the inbox queue, triage the queue, then deliver.

Reading and triage are separate steps joined by a table (`storage.models.InboxItem`).
Reading a mailbox stores each batch of fetched mail with the cursor past it, in one
transaction, under the mailbox's lease. Triage claims queued mail a batch at a time (any
worker: what one read, several triage), parses and classifies the batch together
(`bot.triage.pipeline.prepare`), then screens, routes and stores each item in its own
transaction: the question (or the skip, or the quarantine entry), its deliveries with their
composed payload, and the item's removal from the queue. Sending happens after the commit
and reads only stored deliveries; a delivered message is never sent again. A message that
cannot be parsed is quarantined with its reason; one that makes a stage fail unexpectedly
stays queued, is tried again on the next passes, and is quarantined after three tries.

Delivery is at least once, made recognisable: a delivery is marked sent only after the
server accepted it. When the outcome is unknown (the connection drops after DATA, or the
worker dies between the server's answer and the commit) the message is sent again with the
same Message-ID, which the receiving server or mail client can recognise as the same
message (Exchange, for one, drops a second copy with a Message-ID already in the mailbox).
A failed send waits `delivery.retry_seconds`, doubling per attempt up to an hour, as an
MTA's queue does; after `delivery.max_attempts` it is marked failed and `check` shows it.

Several workers (PostgreSQL): see `bot.service.leases` — one reader per mailbox at a time;
queued mail and deliveries claimed with FOR UPDATE SKIP LOCKED. Should two workers still store the same
item, or the same Message-ID from two mailboxes, at the same moment, a unique constraint
makes the later commit fail: that message's savepoint is rolled back and it is triaged
again as the duplicate it now is. Nothing is forwarded twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

import rules
from bot.backlog import corrections, replies
from bot.backlog.actions import Desk
from bot.backlog.contacts import save_contacts
from bot.backlog.record import record_quarantine, record_triage
from bot.ingest.mailboxes import MailboxError, mark_question, open_mailbox
from bot.ingest.parse import ParseError
from bot.outgoing import Sender, open_sender
from bot.outgoing.queue import send_due
from bot.service.heartbeat import worker_identity
from bot.service.leases import Lease, LeaseLost, mailbox_lease, stopped_workers
from bot.settings import ConfigError, Settings
from bot.triage.context import Context, open_context
from bot.triage.pipeline import prepare, triage_message
from bot.triage.training import ensure_model
from storage import repo
from storage.db import open_database, unit_of_work

if TYPE_CHECKING:
    from classifiers import Predictor, TriageModel

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # tries of a message that makes a stage fail, before quarantine
BATCH = 32  # fetched items parsed and classified together (`pipeline.prepare`); each still stored alone


@dataclass
class PollReport:
    fetched: int = 0
    triaged: int = 0
    routed: int = 0
    needs_review: int = 0
    skipped: Counter = field(default_factory=lambda: Counter(auto_reply=0, bounce=0, own_message=0, duplicate=0))
    quarantined: int = 0
    failed: int = 0  # unexpected errors, retried next poll
    delivered: int = 0
    delivery_failed: int = 0
    answered: int = 0  # questions found answered by reply detection
    errors: list[str] = field(default_factory=list)
    elsewhere: list[dict] = field(default_factory=list)  # mailboxes another worker holds: who, until when
    retry: set[int] = field(default_factory=set)  # queued items whose triage failed in this poll
    assigned: list[tuple[str, datetime]] = field(default_factory=list)  # (contact person, when) routed to

    def absorb(self, other: "PollReport") -> None:
        """Add what `other` counted of triage (one item's, once its transaction committed)."""
        self.triaged += other.triaged
        self.routed += other.routed
        self.needs_review += other.needs_review
        self.skipped.update(other.skipped)
        self.quarantined += other.quarantined
        self.failed += other.failed
        self.answered += other.answered
        self.assigned += other.assigned

    def as_dict(self) -> dict:
        return {
            "fetched": self.fetched,
            "triaged": self.triaged,
            "routed": self.routed,
            "needs_review": self.needs_review,
            "skipped": dict(self.skipped),
            "quarantined": self.quarantined,
            "failed": self.failed,
            "delivered": self.delivered,
            "answered": self.answered,
            "delivery_failed": self.delivery_failed,
            "errors": self.errors,
            "elsewhere": self.elsewhere,
        }


@dataclass
class Runtime:
    """What a poll needs, built once from the settings."""

    settings: Settings
    engine: Engine
    ruleset: rules.RuleSet
    contacts: list[rules.Contact]
    model: TriageModel | Predictor  # loaded to predict (`bot.triage.training.ensure_model`)
    sender: Sender
    stopping: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM
    rules_stamp: tuple = ()
    worker_id: str = ""  # holder of mailbox leases (bot.service.leases)
    sending: threading.Lock = field(default_factory=threading.Lock)  # one sending round at a time
    triaging: threading.Lock = field(default_factory=threading.Lock)  # one pass over the queue at a time
    failing: set[int] = field(default_factory=set)  # queued items whose triage failed here: for the next poll
    # one reader per mailbox in this process (a push and the scheduled poll take turns)
    reading: defaultdict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))

    @classmethod
    def start(cls, settings: Settings) -> "Runtime":
        ruleset = rules.load_ruleset(settings.routing.rules)
        contacts = rules.load_contacts(settings.routing.contacts, ruleset)
        engine = open_database(settings.storage.url)
        save_contacts(engine, contacts)
        model = ensure_model(settings, ruleset=ruleset, engine=engine)
        runtime = cls(settings, engine, ruleset, contacts, model, open_sender(settings.delivery, mailboxes=settings.mailboxes))
        runtime.rules_stamp = runtime._stamp()
        runtime.worker_id = worker_identity(settings.schedule.worker_id)
        return runtime

    def _stamp(self) -> tuple:
        """When the routing data last changed (file modification times)."""
        paths = [self.settings.routing.contacts, *sorted(self.settings.routing.rules.glob("*"))]
        return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.exists())

    def refresh_rules(self) -> str | None:
        """Reload rules and contacts when their files changed. An invalid change is refused:
        the worker keeps the last valid rules and says so (the returned line, also logged)."""
        stamp = self._stamp()
        if stamp == self.rules_stamp:
            return None
        self.rules_stamp = stamp
        try:
            ruleset = rules.load_ruleset(self.settings.routing.rules)
            contacts = rules.load_contacts(self.settings.routing.contacts, ruleset)
        except rules.RulesError as exc:
            line = f"regels niet geladen, de worker houdt de vorige geldige regels: {exc}"
            log.error("%s", line)
            return line
        self.ruleset, self.contacts = ruleset, contacts
        save_contacts(self.engine, contacts, reloaded=str(self.settings.routing.rules))
        log.info("rules and contacts reloaded")
        return "regels en contactpersonen opnieuw geladen"

    def reload_model(self) -> None:
        self.model = ensure_model(self.settings, ruleset=self.ruleset, engine=self.engine)


def poll(runtime: Runtime, *, mailboxes: list[str] | None = None, progress=None,
         wait_to_send: bool = False) -> PollReport:
    """One cycle over the configured mailboxes (or the named ones), then a sending round.
    `wait_to_send`: wait for a round another thread is running, rather than leave this
    poll's forwards to the next one (a push wants them out now)."""
    report = PollReport()
    for config in runtime.settings.mailboxes:
        if mailboxes and config.name not in mailboxes:
            continue
        if runtime.stopping.is_set():
            break
        try:
            _poll_mailbox(runtime, config, report, progress)
        except (MailboxError, ConfigError) as exc:  # refused, unreachable, a secret not set: this mailbox only
            report.errors.append(f"mailbox {config.name}: {exc}")
    triage_queued(runtime, report, progress)  # what other workers read, or a failed mailbox left queued
    send_pending(runtime, report, wait=wait_to_send)
    return report


def _poll_mailbox(runtime: Runtime, config, report: PollReport, progress) -> None:
    """Poll one mailbox while holding its lease; a mailbox another worker polls is passed over."""
    with runtime.reading[config.name]:
        _poll_leased_mailbox(runtime, config, report, progress)


def _poll_leased_mailbox(runtime: Runtime, config, report: PollReport, progress) -> None:
    lease = mailbox_lease(runtime.engine, mailbox=config.name, holder=runtime.worker_id,
                          seconds=runtime.settings.schedule.lease_seconds)
    if not lease.take():
        _held_elsewhere(report, config.name, lease)
        return
    try:
        _read_mailbox(runtime, config, report, progress, lease)
    except LeaseLost:
        log.info("mailbox %s: lease taken over by another worker; it continues", config.name)
        _held_elsewhere(report, config.name, lease)
    finally:
        lease.release()


def _held_elsewhere(report: PollReport, mailbox: str, lease: Lease) -> None:
    held = lease.holder_now()
    holder, until = held if held else ("", None)
    report.elsewhere.append({"mailbox": mailbox, "holder": holder, "until": until.isoformat() if until else None})


def _read_mailbox(runtime: Runtime, config, report: PollReport, progress, lease: Lease) -> None:
    """Read what is new into the inbox queue, a batch and the cursor past it per transaction
    (under the lease: the fence); then, the lease released, triage the queue, marking this
    mailbox's questions over its open connection; then find replies and corrections in it."""
    mailbox = open_mailbox(config)
    try:
        with unit_of_work(runtime.engine) as session:
            cursor = repo.get_cursor(session, mailbox=config.name)
        for batch in _batches(mailbox.fetch(cursor), BATCH):
            with unit_of_work(runtime.engine) as session:
                new = repo.queue_fetched(session, mailbox=config.name, items=[(i.source_id, i.raw) for i in batch])
                repo.set_cursor(session, mailbox=config.name, value=batch[-1].cursor)
                lease.hold(session)  # fence: if another worker took the mailbox, roll back and stop
            report.fetched += new  # what was read before (read again to be sure) is not counted
            if runtime.stopping.is_set():
                break
        lease.release()  # the lease covers the reading: meanwhile another worker may read new mail
        triage_queued(runtime, report, progress, opened={config.name: mailbox})
        # reply detection, once per mailbox per poll, under the lease again (unless another
        # worker reads the mailbox now: then it reads the replies)
        if not runtime.stopping.is_set() and lease.take():
            report.answered += replies.detect_replies(runtime.engine, mailbox, name=config.name)
            corrections.from_marks(runtime.engine, mailbox, config, ruleset=runtime.ruleset,
                                   desk=Desk(runtime.settings, runtime.ruleset, tuple(runtime.contacts)))
    finally:
        mailbox.close()


def _batches(items: Iterable, size: int) -> Iterator[list]:
    """The fetched items in lists of `size`, as they come."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def triage_queued(runtime: Runtime, report: PollReport, progress=None, *, opened: dict | None = None,
                  between_polls: bool = False) -> None:
    """Triage what waits in the inbox queue, whichever worker read it: claim a batch (the
    oldest first; on PostgreSQL what another worker claims is passed over), prepare it, and
    store each item's outcome in its own transaction, which deletes it from the queue. An
    item whose triage fails goes back to the queue and is tried again by the next poll.
    `opened`: mailboxes this worker has open, to mark questions over; others are opened when
    a question needs a mark. `between_polls`: a pass between the scheduled polls (for mail
    other workers queued) leaves alone what failed here, and what another thread of this
    worker triages; a poll waits for that thread (it wants its mail triaged now)."""
    if not runtime.triaging.acquire(blocking=not between_polls):
        return
    passed = runtime.failing if between_polls else report.retry
    marking = Marking(runtime, dict(opened or {}))
    try:
        contexts: dict[str, Context] = {}
        configs = {config.name: config for config in runtime.settings.mailboxes}
        dead = stopped_workers(runtime.engine)
        while not runtime.stopping.is_set():
            with unit_of_work(runtime.engine) as session:
                batch = repo.claim_queued(session, holder=runtime.worker_id, mailboxes=list(configs), limit=BATCH,
                                          seconds=runtime.settings.schedule.lease_seconds, dead=dead,
                                          passed=passed)
            if not batch:
                break
            for name in {item.mailbox for item in batch} - set(contexts):
                contexts[name] = open_context(runtime.settings, config=configs[name], ruleset=runtime.ruleset,
                                              contacts=runtime.contacts, model=runtime.model, engine=runtime.engine,
                                              today=datetime.now(timezone.utc).date())
            for item, prepared in zip(batch, _prepare(batch, contexts)):
                if runtime.stopping.is_set():
                    break
                _triage_one(runtime, contexts[item.mailbox], item, prepared, report, marking)
                if progress:
                    progress(item.mailbox)
    finally:
        try:  # what this pass claimed and left (stopping, or an error): back to the queue now
            with unit_of_work(runtime.engine) as session:
                repo.unclaim(session, holder=runtime.worker_id)
        finally:
            runtime.triaging.release()
            marking.close()


def _prepare(batch: list, contexts: dict[str, Context]) -> list:
    """`pipeline.prepare` for a batch, per mailbox; should that fail, each item is prepared on
    its own in `_handle`, where a failure counts against that item only."""
    ready: dict[int, object] = {}
    for name in dict.fromkeys(item.mailbox for item in batch):
        items = [item for item in batch if item.mailbox == name]
        try:
            ready |= zip((item.id for item in items),
                         prepare([(item.raw, item.source_id) for item in items], contexts[name]))
        except Exception as exc:  # the type only: an exception's text may quote the mail
            log.warning("batch of %d items prepared one by one (%s)", len(items), type(exc).__name__)
    return [ready.get(item.id) for item in batch]


def _triage_one(runtime: Runtime, ctx: Context, item, prepared, report: PollReport, marking: "Marking") -> None:
    """One queued item in one transaction: its outcome stored and the item taken off the queue,
    or, when its triage failed and it is tried again, given back to the queue."""
    counted = PollReport()  # counted once the transaction commits: a rolled-back triage counts for nothing
    try:
        with unit_of_work(runtime.engine, writes=True) as session:  # queued only when not handled before
            done = _handle(session, runtime, ctx, item, prepared, counted)
            if not done:
                repo.unclaim(session, holder=runtime.worker_id, item_id=item.id)
            elif not repo.unqueue(session, item_id=item.id, holder=runtime.worker_id):
                raise ClaimLapsed(item.id)  # fence: another worker triages it now; roll this back
    except ClaimLapsed:
        log.info("queued item %s: its claim lapsed and another worker took it over", item.id)
        return
    report.absorb(counted)
    for email, when in counted.assigned:
        ctx.directory.assigned(email, when)
    if done:
        runtime.failing.discard(item.id)
        marking.mark(item.mailbox, item.source_id)
    else:
        runtime.failing.add(item.id)
        report.retry.add(item.id)


class ClaimLapsed(Exception):
    """Another worker claimed a queued item after this worker's claim lapsed."""


class Marking:
    """Marks questions in their mailbox after their transaction (never before the decision):
    over a connection the poll has open, or one opened for it, once per pass."""

    def __init__(self, runtime: Runtime, opened: dict) -> None:
        self.runtime, self.opened, self.own = runtime, opened, {}
        self.configs = {config.name: config for config in runtime.settings.mailboxes}

    def mark(self, name: str, source_id: str) -> None:
        config = self.configs[name]
        mailbox = self.opened.get(name) or self._open(config)
        if not getattr(mailbox, "can_mark", False):
            return
        with unit_of_work(self.runtime.engine) as session:
            question = repo.question_for_item(session, mailbox=name, source_id=source_id)
        mark_question(mailbox, config, question, ruleset=self.runtime.ruleset, contacts=self.runtime.contacts)

    def _open(self, config):
        if config.name not in self.own:
            try:
                self.own[config.name] = open_mailbox(config) if config.kind != "maildir" else None
            except (MailboxError, ConfigError) as exc:  # marks are never worth a failed pass
                log.warning("mailbox %s: not opened to mark its questions (%s)", config.name, exc)
                self.own[config.name] = None
        return self.own[config.name]

    def close(self) -> None:
        for mailbox in self.own.values():
            if mailbox is not None:
                mailbox.close()


def _handle(session, runtime: Runtime, ctx: Context, item, prepared, report: PollReport) -> bool:
    """Triage one item (`prepared`: what `pipeline.prepare` made of it, or None) and store the
    outcome. False when it must be tried again."""
    try:
        try:
            with session.begin_nested(), ctx.reading_in(session):
                triage = triage_message(item.raw, source_id=item.source_id, ctx=ctx, ready=prepared)
                question, answered = record_triage(session, triage, item.raw, settings=runtime.settings,
                                                   ruleset=runtime.ruleset, contacts=runtime.contacts)
        except IntegrityError:
            # another worker stored this item, or this Message-ID, at the same moment: the
            # savepoint is rolled back; triaged again it is a duplicate (or already known)
            if repo.is_known(session, mailbox=ctx.mailbox, source_id=item.source_id):
                report.skipped["duplicate"] += 1
                return True
            with session.begin_nested(), ctx.reading_in(session):
                triage = triage_message(item.raw, source_id=item.source_id, ctx=ctx, ready=prepared)
                question, answered = record_triage(session, triage, item.raw, settings=runtime.settings,
                                                   ruleset=runtime.ruleset, contacts=runtime.contacts)
    except ParseError as exc:
        repo.quarantine(session, mailbox=ctx.mailbox, source_id=item.source_id, fingerprint=_fingerprint(item.raw),
                        reason=str(exc))
        _quarantine(session, runtime, ctx, item, reason=str(exc))
        report.quarantined += 1
        return True
    except Exception as exc:  # a bug or an outage in a stage: retry, then quarantine
        # the type only: an exception's text may quote the mail
        log.error("triage failed for item %s of mailbox %s: %s", item.source_id, ctx.mailbox, type(exc).__name__)
        reason = f"verwerking mislukt: {type(exc).__name__}"
        entry = repo.quarantine(session, mailbox=ctx.mailbox, source_id=item.source_id,
                                fingerprint=_fingerprint(item.raw), reason=reason, final_after=MAX_ATTEMPTS)
        if entry.final:
            _quarantine(session, runtime, ctx, item, reason=reason)
            report.quarantined += 1
            return True
        report.failed += 1
        return False
    if triage.screening.is_question:
        report.triaged += 1
        if question.status == "review":
            report.needs_review += 1
        else:
            report.routed += 1
            report.assigned.append((question.assignee, question.routed_at))
    else:
        report.skipped[triage.screening.verdict] += 1
        report.answered += answered
    return True


def send_pending(runtime: Runtime, report: PollReport, *, wait: bool = False) -> None:
    """Send the stored deliveries that are due (`bot.outgoing.queue`), counted in `report`."""
    sent = send_due(runtime.engine, runtime.sender, runtime.settings.delivery,
                    stopping=runtime.stopping, lock=runtime.sending, wait=wait)
    report.delivered += sent.delivered
    report.delivery_failed += sent.failed
    report.errors += sent.errors


def _quarantine(session, runtime: Runtime, ctx: Context, item, *, reason: str) -> None:
    record_quarantine(session, mailbox=ctx.mailbox, source_id=item.source_id, raw=item.raw, reason=reason,
                      settings=runtime.settings, contacts=runtime.contacts, fingerprint=_fingerprint(item.raw))


def _fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
