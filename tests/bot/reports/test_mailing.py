"""Digests and the report as mail: structure Outlook shows, sent once per period and recipient."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.outgoing import DeliveryError, OutboxSender
from bot.reports.mailing import mail_message_id, report_payloads, send_digests, send_report
from storage.db import unit_of_work
from storage.models import AuditEntry
from tests.bot.history import PLANTED, Filled, filled_database


@pytest.fixture
def filled(tmp_path) -> Filled:
    return filled_database(tmp_path, questions=800, weeks=4,
                           recipients=("skiv-secretariaat@example.org", "voorzitter@example.org"))


def outbox_messages(filled: Filled, recipient: str) -> list[Path]:
    return sorted((filled.settings.delivery.path / recipient / "new").glob("*"))


def parse(payload: bytes):
    return BytesParser(policy=policy.default).parsebytes(payload)


def sent_entries(filled: Filled, action: str) -> list[dict]:
    with unit_of_work(filled.engine) as session:
        return [e.detail for e in session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()]


def test_message_ids_are_stable_per_kind_period_and_recipient():
    one = mail_message_id(kind="report", period="rapport-2025-W14", recipient="A@example.org")
    assert one == mail_message_id(kind="report", period="rapport-2025-W14", recipient="a@example.org")
    assert one != mail_message_id(kind="report", period="rapport-2025-W15", recipient="a@example.org")
    assert one != mail_message_id(kind="report", period="rapport-2025-W14", recipient="b@example.org")
    assert re.fullmatch(r"<rapport-2025-W14\.[0-9a-f]{16}@bvhk-triage>", one)


def test_the_report_mail_has_text_html_with_inline_charts_and_the_workbook(filled):
    period, payloads = report_payloads(filled.settings, filled.engine, today=filled.today)
    assert period == "rapport-2025-W14"
    message_id, payload = payloads["skiv-secretariaat@example.org"]
    msg = parse(payload)
    assert msg["X-BvhK-Triage"] == period and msg["Message-ID"] == message_id
    assert msg["From"] == "bvhk-triage@bvhk.example" and msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    text, related = alternative.get_payload()
    assert (alternative.get_content_type(), text.get_content_type(), related.get_content_type()) == (
        "multipart/alternative", "text/plain", "multipart/related")
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html" and len(images) == 4
    body = html.get_content()
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content()[:4] == b"\x89PNG"
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in body
    assert attachment.get_filename() == "rapport-2025-W14.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
    assert "Per thema" in book.sheetnames


def test_the_report_is_sent_once_per_week_and_recipient(filled):
    first = send_report(filled.settings, filled.engine, today=filled.today)
    assert sorted(first.sent) == ["skiv-secretariaat@example.org", "voorzitter@example.org"]
    again = send_report(filled.settings, filled.engine, today=filled.today + timedelta(days=1))
    assert again.sent == [] and len(again.skipped) == 2
    assert len(outbox_messages(filled, "voorzitter@example.org")) == 1
    assert len(sent_entries(filled, "report:sent")) == 2
    following = send_report(filled.settings, filled.engine, today=filled.today + timedelta(days=7))
    assert following.period == "rapport-2025-W15" and len(following.sent) == 2


def test_digests_are_sent_once_a_day_to_each_coordinator(filled):
    first = send_digests(filled.settings, filled.engine, today=filled.today)
    assert len(first.sent) == 4 and first.period == "digest-2025-04-09"
    assert send_digests(filled.settings, filled.engine, today=filled.today).sent == []
    msg = parse(outbox_messages(filled, "coordinator.breda@rvdk.example")[0].read_bytes())
    assert msg["X-BvhK-Triage"] == "digest-2025-04-09"
    assert msg["Subject"].strip().startswith("Backlog Belang van het Kind RvdK, regio Breda:")
    assert [p.get_content_type() for p in msg.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    next_day = send_digests(filled.settings, filled.engine, today=filled.today + timedelta(days=1))
    assert len(next_day.sent) == 4


def test_a_failed_send_is_not_recorded_and_is_tried_again(filled):
    class Broken(OutboxSender):
        def send(self, *, payload, recipient, message_id):
            raise DeliveryError("server weg")

    failed = send_report(filled.settings, filled.engine, today=filled.today,
                         sender=Broken(filled.settings.delivery.path))
    assert len(failed.failed) == 2 and sent_entries(filled, "report:sent") == []
    retried = send_report(filled.settings, filled.engine, today=filled.today)
    assert len(retried.sent) == 2


def test_no_personal_data_in_any_mail(filled):
    send_digests(filled.settings, filled.engine, today=filled.today)
    send_report(filled.settings, filled.engine, today=filled.today)
    texts = []
    for path in filled.settings.delivery.path.rglob("new/*"):
        for part in parse(path.read_bytes()).walk():
            if part.get_content_maintype() == "text":
                texts.append(part.get_content())
            elif part.get_filename() and part.get_filename().endswith(".xlsx"):
                book = load_workbook(io.BytesIO(part.get_content()), read_only=True)
                texts.extend(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
            if part["Subject"]:
                texts.append(str(part["Subject"]))
    everything = "\n".join(texts)
    assert len(texts) > 10
    for planted in PLANTED:
        assert planted not in everything, planted


def test_the_worker_gets_a_digest_and_a_report_job_on_their_cron(filled):
    from apscheduler.triggers.cron import CronTrigger

    from bot.reports.mailing import scheduled_jobs

    sender = OutboxSender(filled.settings.delivery.path)
    jobs = scheduled_jobs(filled.settings, filled.engine, sender)
    assert [(name, cron) for name, cron, _ in jobs] == [("digest", "0 8 * * mon-fri"), ("report", "0 7 * * mon")]
    for _, cron, _ in jobs:
        CronTrigger.from_crontab(cron, timezone="Europe/Amsterdam")
    jobs[0][2]()  # today's digests, through the outbox
    assert sent_entries(filled, "digest:sent")


def test_no_recipients_means_no_report_mail(filled):
    settings = filled.settings.model_copy(update={"reports": filled.settings.reports.model_copy(
        update={"skiv_recipients": []})})
    assert send_report(settings, filled.engine, today=filled.today).as_dict()["sent"] == 0
