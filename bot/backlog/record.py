"""Recording what the pipeline decided: the handler that turns a triaged mail into rows.

One call per mail, inside the caller's transaction: the question row (or the skip, the
answer, the follow-up, the quarantined mail) with every decision and its why, the audit row,
and the deliveries the decision calls for, composed now and sent later (`bot.outgoing.queue`):
- routed: the forward to the contact person, and copies;
- review: the forward to the reviewer of the mailbox's organisation (`[routing] review_to`, else
  its coordinator), the same poll; the original is kept until someone decides;
- follow-up: it joins its question, goes to whoever has it, and reopens it if it was answered;
- a contact person's answer: its question is answered;
- quarantine: a notice to the reviewer (the reason and the kenmerk, no content); the original
  is kept, to be triaged again after a fix or handed on unchanged (`bot.backlog.actions`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Sequence
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import parseaddr, parsedate_to_datetime

import rules
from bot.message import Triage
from bot.outgoing.forwards import asked_in_one_line, forward, notice
from bot.settings import Settings
from classifiers import redact, redact_question
from storage import repo
from storage.models import Question, utcnow

QUARANTINE_NOTICE = """Een bericht in mailbox {mailbox} kon niet worden getrieerd en staat in quarantaine.

Reden:   {reason}
Kenmerk: {kenmerk}

De inhoud staat bewust niet in dit bericht. Het origineel staat in de functionele mailbox
(gemarkeerd "BvhK quarantaine") en wordt bewaard. Wat kan:
- bekijken:          bvhk-triage quarantine show {kenmerk}
- opnieuw triëren:   bvhk-triage quarantine release {kenmerk}   (na een correctie of een hogere limiet)
- ongewijzigd doorsturen: bvhk-triage quarantine forward {kenmerk} <e-mailadres>
"""


def new_kenmerk() -> str:
    return uuid.uuid4().hex[:12]


def reviewer(settings: Settings, contacts: Sequence[rules.Contact], mailbox: str) -> str | None:
    """Who reviews what comes to `mailbox`: the configured address of its organisation, else the
    organisation's coordinator (one without a region first)."""
    organisation = settings.mailbox_organisations.get(mailbox, "")
    if organisation in settings.routing.review_to:
        return settings.routing.review_to[organisation]
    coordinators = [c for c in contacts if c.is_coordinator and c.active and c.organisation == organisation]
    coordinators.sort(key=lambda c: bool(c.region))
    return coordinators[0].email if coordinators else None


def sender_hash(address: str, settings: Settings) -> str:
    """A keyed hash of the asker's address (the key from the environment variable that
    `[privacy] sender_key_env` names): enough to join a thread and count distinct askers
    after the address itself is purged."""
    if not address:
        return ""
    key = os.environ.get(settings.privacy.sender_key_env, "").encode()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def record_triage(session, triage: Triage, raw: bytes, *, settings: Settings, ruleset: rules.RuleSet,
                  contacts: Sequence[rules.Contact],
                  existing: Question | None = None) -> tuple[Question, bool]:
    """Store one triaged mail with what it calls for; `existing`: the row to fill instead of a new
    one (a quarantined mail triaged again keeps its kenmerk). Also True when it was a contact
    person's answer that gave its question the first answer."""
    msg, screening = triage.message, triage.screening
    now = utcnow()
    subject, body = redact_question(msg.subject, msg.question, mail=f"{msg.text}\n\n{msg.signature}")
    fields = dict(
        message_id=msg.message_id, fingerprint=msg.fingerprint, received_at=msg.date or now,
        subject=subject, sender=msg.sender.lower(), sender_domain=msg.sender.rpartition("@")[2].lower(),
        sender_hash=sender_hash(msg.sender, settings),
        size=msg.size, attachments=len(msg.attachments), verdict=screening.verdict,
        verdict_reason=screening.reason, screen_hits=list(screening.hits), screen_misses=list(screening.misses),
        status="skipped",
    )
    if screening.is_question:
        cls, route = triage.classification, triage.route
        fields.update(
            asking_organisation=cls.asking_organisation.label, theme=cls.theme.label,
            theme_confidence=cls.theme.confidence, organisation=cls.organisation.label,
            organisation_confidence=cls.organisation.confidence, organisation_source=cls.organisation_source,
            region=triage.region.label, region_confidence=triage.region.confidence,
            region_reason=triage.region_reason, region_found=route.region, model_version=cls.model_version,
            explanation=list(cls.explanation), assignee=route.assignee, rule=route.rule,
            route_reason=route.reason, rules_hit=list(route.hits), rules_missed=list(route.misses),
            priority=route.priority, status=route.status, routed_at=now, due_on=route.due_on,
            due_rule=route.due_rule, body=body,
            signal_terms=ruleset.signal_terms(f"{msg.subject}\n{msg.question}"),
        )
    if existing is not None:
        question = existing
        question.sqlmodel_update(fields)
    else:  # every field set once, as the row is made (setting them after costs twice)
        question = Question(triage_id=new_kenmerk(), mailbox=msg.mailbox, source_id=msg.source_id, created_at=now,
                            **fields)
    parent = (repo.question_replied_to(session, message_id=screening.refers_to)
              if screening.verdict in ("answer", "follow_up") and screening.refers_to else None)
    if parent is not None:
        question.thread_of = parent.id
    if existing is not None:
        session.add(question)
        session.flush()
    else:
        repo.insert_new(session, question)
    repo.audit(session, action=f"triage:{question.status}", question_id=question.id, rule=question.rule,
               hits=question.rules_hit, verdict=question.verdict, assignee=question.assignee)
    answered = False
    send = dict(raw=raw, subject=msg.subject, asked=asked_in_one_line(msg.question), settings=settings,
                theme_name=ruleset.theme_name(question.theme), asker=msg.sender)
    if question.status == "routed":
        repo.insert_new(session, forward(question, recipient=question.assignee, purpose="forward", **send))
        for cc in triage.route.copy_to:
            repo.insert_new(session, forward(question, recipient=cc, purpose="copy", **send))
    elif question.status == "review":
        repo.keep_original(session, question_id=question.id, raw=raw)
        to = reviewer(settings, contacts, question.mailbox)
        if to:
            repo.insert_new(session, forward(question, recipient=to, purpose="review", **send))
    elif screening.verdict == "answer" and parent is not None:
        answered = repo.record_answer(session, question=parent, at=msg.date or now, via="inbox_reply")
    elif screening.verdict == "follow_up" and parent is not None:
        _join(session, parent, question, settings=settings, ruleset=ruleset, contacts=contacts,
              send=send | {"theme_name": ruleset.theme_name(parent.theme)})
    return question, answered


def _join(session, parent: Question, mail: Question, *, settings, ruleset, contacts, send: dict) -> None:
    """A follow-up joins its question: reopened if it was answered, sent to whoever has it."""
    if parent.status == "answered":
        parent.status = "routed"
        session.add(parent)
        repo.audit(session, action="question:reopen", question_id=parent.id, by_mail=mail.triage_id)
    repo.audit(session, action="question:follow_up", question_id=parent.id, mail=mail.triage_id)
    to = parent.assignee if parent.status in ("routed", "reassigned") else reviewer(settings, contacts, parent.mailbox)
    if to:  # one follow-up forward per mail, however many come
        repo.insert_new(session, forward(parent, recipient=to, purpose="follow_up", mail=mail, **send))


def _decoded(value) -> str:
    try:
        return str(make_header(decode_header(str(value or ""))))[:500]
    except (ValueError, LookupError, UnicodeError):
        return ""


def record_quarantine(session, *, mailbox: str, source_id: str, raw: bytes, reason: str, settings: Settings,
                      contacts: Sequence[rules.Contact], fingerprint: str = "") -> Question:
    """A mail that cannot be triaged: kept with its reason and a kenmerk; the reviewer is told."""
    headers = BytesHeaderParser().parsebytes(raw[:65536])
    sender = parseaddr(str(headers.get("From", "") or ""))[1].lower()
    try:
        received = parsedate_to_datetime(str(headers.get("Date", ""))) if headers.get("Date") else None
    except (TypeError, ValueError, IndexError):
        received = None
    question = Question(
        triage_id=new_kenmerk(), mailbox=mailbox, source_id=source_id,
        message_id=str(headers.get("Message-ID", "") or "").strip()[:998] or f"<{source_id}@quarantaine>",
        fingerprint=fingerprint, received_at=received or utcnow(), subject=redact(_decoded(headers.get("Subject"))),
        sender=sender, sender_hash=sender_hash(sender, settings),
        sender_domain=sender.rpartition("@")[2], size=len(raw), verdict="quarantine", verdict_reason=reason,
        status="quarantine",
    )
    session.add(question)
    session.flush()
    repo.keep_original(session, question_id=question.id, raw=raw)
    repo.audit(session, action="triage:quarantine", question_id=question.id, verdict="quarantine", reason=reason)
    to = reviewer(settings, contacts, mailbox)
    if to:
        session.add(notice(question.id, triage_id=question.triage_id, recipient=to, purpose="quarantine",
                           subject=f"[BvhK quarantaine {question.triage_id}] bericht niet getrieerd",
                           text=QUARANTINE_NOTICE.format(mailbox=mailbox, reason=reason, kenmerk=question.triage_id),
                           sender=settings.delivery.from_))
    return question
