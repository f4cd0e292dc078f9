"""Sending the digests and the weekly report as mail, each at most once per period and recipient.

A message is multipart/mixed: a multipart/alternative of the plain text and a
multipart/related HTML whose charts are inline PNG parts (cid:), which Outlook shows;
the report adds its workbook as an XLSX attachment. Its Message-ID derives from the kind,
the period (the day of a digest, the ISO week of a report) and the recipient, and every
send is recorded in the audit; a period and recipient with a recorded send are skipped,
so a second run, a retry or a restart sends nothing twice. (A crash between the server's
acceptance and the audit record could resend once, with the same Message-ID; the outbox
keeps one copy.)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.outgoing import DeliveryError, Sender, open_sender
from bot.reports.digest import build_digests
from bot.reports.files import ReportFile, report_charts
from bot.reports.weekly import Week, build_report
from bot.reports.workbook import report_workbook
from bot.settings import Settings
from storage import repo
from storage.db import unit_of_work
from storage.models import AuditEntry

log = logging.getLogger(__name__)

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def mail_message_id(*, kind: str, period: str, recipient: str) -> str:
    """Stable: the same kind, period and recipient always give the same Message-ID."""
    digest = hashlib.sha256(f"{kind}|{period}|{recipient.lower()}".encode()).hexdigest()[:16]
    return f"<{period}.{digest}@bvhk-triage>"


def compose(*, sender: str, recipient: str, subject: str, message_id: str, triage_id: str, text: str,
            html: str, inline: Sequence[tuple[str, ReportFile]] = (),
            attachments: Sequence[ReportFile] = ()) -> bytes:
    """The message; `inline` pairs each chart with the Content-ID its HTML refers to (without cid:)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["X-BvhK-Triage"] = triage_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, image in inline:
        html_part.add_related(image.data, "image", "png", cid=f"<{cid}>", filename=image.name,
                              disposition="inline")
    for attachment in attachments:
        msg.add_attachment(attachment.data, *XLSX, filename=attachment.name)
    return msg.as_bytes()


# --- what was sent ------------------------------------------------------------------------
@dataclass
class Sent:
    """The outcome of one round: recipients sent to, skipped (sent before), failed."""

    kind: str
    period: str
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "period": self.period, "sent": len(self.sent),
                "skipped": len(self.skipped), "failed": len(self.failed)}


def already_sent(engine: Engine, *, kind: str) -> set[str]:
    """Message-IDs of the digests or reports recorded as sent."""
    with unit_of_work(engine) as session:
        details = session.exec(select(AuditEntry.detail).where(AuditEntry.action == f"{kind}:sent")).all()
    return {d.get("message_id", "") for d in details}


def _deliver(engine: Engine, sender: Sender, outcome: Sent, *, recipient: str, message_id: str,
             payload: bytes) -> None:
    try:
        sender.send(payload=payload, recipient=recipient, message_id=message_id)
    except DeliveryError as exc:
        log.error("%s %s not delivered: %s", outcome.kind, outcome.period, exc)
        outcome.failed.append(recipient)
        return
    with unit_of_work(engine) as session:
        repo.audit(session, action=f"{outcome.kind}:sent", message_id=message_id, period=outcome.period,
                   recipient=recipient)
    outcome.sent.append(recipient)


# --- digests and the report -----------------------------------------------------------------
def send_digests(settings: Settings, engine: Engine, *, today: date | None = None,
                 sender: Sender | None = None) -> Sent:
    """Today's digest to every coordinator who has something to read (or all, per setting)."""
    sender = sender or open_sender(settings.delivery, mailboxes=settings.mailboxes)
    digests = build_digests(settings, engine, today=today)
    outcome = Sent("digest", digests[0].period if digests else "")
    done = already_sent(engine, kind="digest")
    for digest in digests:
        outcome.period = digest.period
        recipient = digest.coordinator.email
        message_id = mail_message_id(kind="digest", period=digest.period, recipient=recipient)
        if message_id in done:
            outcome.skipped.append(recipient)
            continue
        payload = compose(sender=settings.delivery.from_, recipient=recipient, subject=digest.subject,
                          message_id=message_id, triage_id=digest.period, text=digest.text(), html=digest.html())
        _deliver(engine, sender, outcome, recipient=recipient, message_id=message_id, payload=payload)
    return outcome


def report_payloads(settings: Settings, engine: Engine, *, week: Week | None = None,
                    today: date | None = None) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The report's period and, per SKIV recipient, its Message-ID and composed message."""
    report = build_report(settings, engine, week=week, today=today)
    period = f"rapport-{report.week.iso}"
    charts = report_charts(report)
    inline = [(f"{chart.name}.{period}@bvhk-triage", chart) for chart in charts]
    html = report.html({chart.name: f"cid:{cid}" for cid, chart in inline})
    text = report.text()
    workbook = ReportFile(f"{period}.xlsx", "De cijfers van het rapport", report_workbook(report))
    payloads = {}
    for recipient in settings.reports.skiv_recipients:
        message_id = mail_message_id(kind="report", period=period, recipient=recipient)
        payloads[recipient] = (message_id, compose(
            sender=settings.delivery.from_, recipient=recipient, subject=report.subject, message_id=message_id,
            triage_id=period, text=text, html=html, inline=inline, attachments=[workbook]))
    return period, payloads


def send_report(settings: Settings, engine: Engine, *, week: Week | None = None, today: date | None = None,
                sender: Sender | None = None) -> Sent:
    """The weekly report to the SKIV recipients of the configuration."""
    if not settings.reports.skiv_recipients:
        return Sent("report", "")
    sender = sender or open_sender(settings.delivery, mailboxes=settings.mailboxes)
    period, payloads = report_payloads(settings, engine, week=week, today=today)
    outcome = Sent("report", period)
    done = already_sent(engine, kind="report")
    for recipient, (message_id, payload) in payloads.items():
        if message_id in done:
            outcome.skipped.append(recipient)
            continue
        _deliver(engine, sender, outcome, recipient=recipient, message_id=message_id, payload=payload)
    return outcome


def scheduled_jobs(settings: Settings, engine: Engine, sender: Sender) -> list[tuple[str, str, Callable[[], None]]]:
    """For `run`: (name, cron expression, job) for the digests and the weekly report."""

    def job(kind: str, send) -> Callable[[], None]:
        def run() -> None:
            outcome = send(settings, engine, sender=sender)
            log.info("%s %s: sent=%d skipped=%d failed=%d", kind, outcome.period or "-",
                        len(outcome.sent), len(outcome.skipped), len(outcome.failed))

        return run

    return [
        ("digest", settings.schedule.digest_cron, job("digest", send_digests)),
        ("report", settings.schedule.report_cron, job("report", send_report)),
    ]
