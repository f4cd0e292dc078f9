"""The send queue: stored deliveries sent one transaction each, with back-off, never twice.

Sending reads only stored deliveries. Each is claimed with FOR UPDATE SKIP LOCKED
(PostgreSQL), so workers sharing the outbox never send one at the same time. A delivery is
marked sent only after the server accepted it, and its payload is then dropped. A failed
send waits `delivery.retry_seconds`, doubling per attempt up to an hour, as an MTA's queue
does; after `delivery.max_attempts` it is marked failed and `check` shows it. Two failures
in a row end the round, so an unreachable server does not use up the attempts of every
waiting message.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.outgoing.base import DeliveryError, Sender
from storage import repo
from storage.db import unit_of_work
from storage.models import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0  # seconds: the longest wait between two tries of a delivery
FAILURES_IN_A_ROW = 2  # failed sends that end a round: the server is probably down


@dataclass
class SendRound:
    """What one round of sending did."""

    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the first error of each run of failures


def send_due(engine: Engine, sender: Sender, config, *, stopping: threading.Event | None = None,
             lock: threading.Lock | None = None, wait: bool = False) -> SendRound:
    """Send the deliveries that are due. With `lock`, a round already running in another thread
    of this process (`run` sends while a poll triages) makes this one return at once, or with
    `wait`, go after it."""
    result = SendRound()
    if lock is not None and not lock.acquire(blocking=wait):
        return result
    try:
        in_a_row = 0
        while in_a_row < FAILURES_IN_A_ROW and not (stopping and stopping.is_set()):
            with unit_of_work(engine) as session:
                delivery = repo.claim_delivery(session, now=utcnow())
                if delivery is None:
                    break
                attempts = delivery.attempts + 1
                try:
                    sender.send(payload=delivery.payload, recipient=delivery.recipient,
                                message_id=delivery.message_id)
                except DeliveryError as exc:
                    in_a_row += 1
                    final = attempts >= config.max_attempts
                    repo.delivery_failed(session, delivery_id=delivery.id, attempts=attempts, error=str(exc),
                                         final=final, next_attempt_at=utcnow() + backoff(config.retry_seconds, attempts))
                    if final:
                        log.error("delivery %s not delivered after %d attempts: %s", delivery.id, attempts, exc)
                    result.failed += 1
                    if in_a_row == 1:
                        result.errors.append(f"aflevering: {exc}")
                else:
                    in_a_row = 0
                    repo.delivery_sent(session, delivery_id=delivery.id, attempts=attempts)
                    result.delivered += 1
    finally:
        if lock is not None:
            lock.release()
    return result


def backoff(first: float, attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts`: `first`, doubling, at most MAX_BACKOFF."""
    return timedelta(seconds=min(first * 2 ** (attempts - 1), MAX_BACKOFF))


def send_now(settings, engine: Engine) -> str:
    """Send what a person's action stored, now, and say so in one Dutch line; what cannot go
    now the worker sends later (the delivery rows stay)."""
    from bot.outgoing import open_sender

    try:
        sent = send_due(engine, open_sender(settings.delivery, mailboxes=settings.mailboxes), settings.delivery)
    except DeliveryError as exc:
        return f"verzenden lukt nu niet ({exc}); de worker probeert het opnieuw"
    if sent.failed:
        return f"verzenden lukt nu niet ({sent.errors[0] if sent.errors else 'fout'}); de worker probeert het opnieuw"
    return f"{sent.delivered} bericht(en) verzonden"
