"""What the product sends about a question: the forward to a contact person (or a copy, a
follow-up, a question for review) and the notices without content (quarantine). Each becomes
a stored `Delivery` with a stable Message-ID; sending is `bot.outgoing.queue`.

A forward goes out as the functional mailbox the question came to (or the address configured
for its answering organisation), with Reply-To the asker and that mailbox: a contact person's
reply then reaches the asker with the mailbox in copy, which is how reply detection sees it.
Its text opens with what is asked, in one line, and says what the reader can do from Outlook.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from bot.outgoing.compose import compose_forward, header_text, outgoing_message_id
from classifiers import redact
from storage.models import Delivery, Question

LOCAL = ZoneInfo("Europe/Amsterdam")
PURPOSES = ("forward", "copy", "follow_up", "review")
_SENTENCE = re.compile(r"[^.?!\n]+[?]|[^.?!\n]+[.!]?", re.S)
_ASKING = re.compile(r"\b(kunnen|kunt|kan|mag|mogen|graag weten|willen|wilt|zou|is het mogelijk|hoe|wat|wie|"
                     r"welke|wanneer|waarom|could|can|may|would|how|what)\b", re.I)


def asked_in_one_line(question_text: str, *, limit: int = 200) -> str:
    """The sentence that asks (a question mark, else an asking word, else the first), redacted."""
    sentences = [" ".join(s.split()) for s in _SENTENCE.findall(question_text[:5000]) if len(s.split()) >= 3]
    chosen = (next((s for s in sentences if s.endswith("?")), None)
              or next((s for s in sentences if _ASKING.search(s)), None)
              or (sentences[0] if sentences else ""))
    line = redact(chosen)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def forward_from(settings, question: Question) -> str:
    """The address a forward goes out as: the organisation's configured one, else the mailbox's."""
    configured = settings.delivery.forward_from.get(question.organisation or "")
    mailbox = next((m for m in settings.mailboxes if m.name == question.mailbox), None)
    return configured or (mailbox.address if mailbox else settings.delivery.from_)


def forward(question: Question, *, raw: bytes, subject: str, asked: str, recipient: str, purpose: str,
            settings, theme_name: str | None, asker: str, mail: Question | None = None) -> Delivery:
    """The stored forward of `question` to `recipient`, the original attached as received; its
    text links to the question's page in the web console when [web] public_url is set.
    `mail`: the row of the mail sent on, when it is not the question itself (a follow-up)."""
    assert purpose in PURPOSES, purpose
    mail = mail or question
    message_id = outgoing_message_id(triage_id=mail.triage_id, recipient=recipient, purpose=purpose)
    mailbox = next((m for m in settings.mailboxes if m.name == question.mailbox), None)
    shared = mailbox.address if mailbox else ""
    summary = dict(
        mailbox=question.mailbox, theme_name=theme_name or "onbekend thema", theme_confidence=question.theme_confidence,
        organisation=question.organisation, asking_organisation=question.asking_organisation,
        region=question.region, region_reason=question.region_reason, region_found=question.region_found,
        priority=question.priority, due_on=question.due_on, reason=question.route_reason, purpose=purpose,
        assignee=question.assignee, asked=asked, status=question.status,
        console_url=settings.web.link(f"/questions/{question.triage_id}"),
    )
    payload = compose_forward(
        raw=raw, original_message_id=question.message_id, original_subject=subject,
        sender=forward_from(settings, question), recipient=recipient, message_id=message_id,
        triage_id=question.triage_id, summary=summary,
        reply_to=[a for a in (asker, shared) if a], date=format_datetime(datetime.now(LOCAL)),
    )
    return Delivery(question_id=mail.id, recipient=recipient, purpose=purpose, message_id=message_id,
                    payload=payload)


def notice(question_id: int, *, triage_id: str, recipient: str, purpose: str, subject: str, text: str,
           sender: str, refers_to: str = "") -> Delivery:
    """A stored notice without any content of the mail it is about (a kenmerk and a reason)."""
    message_id = outgoing_message_id(triage_id=triage_id, recipient=recipient, purpose=purpose)
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = header_text(subject)
    msg["Date"] = format_datetime(datetime.now(LOCAL))
    msg["Message-ID"] = message_id
    if refers_to:
        msg["In-Reply-To"] = refers_to
        msg["References"] = refers_to
    msg["X-BvhK-Triage"] = triage_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text)
    return Delivery(question_id=question_id, recipient=recipient, purpose=purpose, message_id=message_id,
                    payload=msg.as_bytes())
