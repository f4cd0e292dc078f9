"""Follow-up on the backlog: reminders, escalations and reassignment when someone is away.

Deciding (`plan`) is apart from acting (`run_followups`). Each step happens at most once
per question: a reminder to the assignee one working day before the due date, an
escalation to the coordinator once the due date has passed, and, when the assignee is
absent, reassignment to a deputy or a colleague in the region. Notifications carry no
message body: a reference (Kenmerk and Message-ID) finds the question in the shared mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

import rules
from bot.backlog.replay import stored_facts
from bot.triage.absence import absent_on
from bot.outgoing.compose import outgoing_message_id
from bot.outgoing.queue import send_due
from bot.render import render
from storage import repo
from storage.db import unit_of_work
from storage.models import Delivery, Question

FOLLOWED = ("routed", "reassigned")


@dataclass(frozen=True)
class Step:
    question_id: int
    purpose: str  # reminder | escalation | reassign
    recipient: str
    reason: str


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not rules.is_working_day(day):
        day -= timedelta(days=1)
    return day


def plan(questions: list[Question], *, contacts: list[rules.Contact], absent: set[str],
         ruleset: rules.RuleSet, open_counts: dict[str, int], today: date,
         mailbox_organisation: dict[str, str]) -> list[Step]:
    """What should happen today to the open questions (pure: no I/O, no clock)."""
    steps: list[Step] = []
    load = dict(open_counts)
    for q in questions:
        if q.status not in FOLLOWED or not q.assignee:
            continue
        if q.assignee in absent:
            states = [rules.ContactState(contact=c, open_questions=load.get(c.email, 0),
                                         absent=c.email in absent) for c in contacts]
            # min_confidence 0: the question was routed once already; only the person changes
            facts = stored_facts(q, min_confidence=0.0, mailbox_organisation=mailbox_organisation.get(q.mailbox, ""))
            decision = rules.decide(facts, ruleset=ruleset, contacts=states, today=today)
            if decision.assignee and decision.assignee != q.assignee:
                steps.append(Step(q.id, "reassign", decision.assignee,
                                  f"{q.assignee} is afwezig; {decision.reason}"))
                load[decision.assignee] = load.get(decision.assignee, 0) + 1
                load[q.assignee] = max(0, load.get(q.assignee, 0) - 1)
                continue
        if q.due_on is None:
            continue
        if today > q.due_on:
            coordinator = _coordinator(contacts, q.organisation, q.region)
            if coordinator:
                steps.append(Step(q.id, "escalation", coordinator, f"termijn {q.due_on} verstreken"))
        elif today >= _previous_working_day(q.due_on):
            steps.append(Step(q.id, "reminder", q.assignee, f"termijn {q.due_on} nadert"))
    return steps


def _coordinator(contacts: list[rules.Contact], organisation: str | None, region: str | None) -> str | None:
    candidates = [c for c in contacts if c.role == "coordinator" and c.active and c.organisation == organisation]
    regional = [c for c in candidates if c.region and c.region == region]
    chosen = (regional or [c for c in candidates if not c.region] or candidates)
    return chosen[0].email if chosen else None


def run_followups(runtime, *, today: date) -> dict[str, int]:
    """Store today's follow-up steps (each at most once) and send them."""
    counts = {"reminder": 0, "escalation": 0, "reassign": 0}
    with unit_of_work(runtime.engine) as session:
        questions = list(repo.open_questions(session))
        steps = plan(questions, contacts=runtime.contacts,
                     absent=absent_on(session, runtime.settings, runtime.contacts, today),
                     ruleset=runtime.ruleset, open_counts=repo.open_counts(session), today=today,
                     mailbox_organisation=runtime.settings.mailbox_organisations)
        by_id = {q.id: q for q in questions}
        for step in steps:
            q = by_id[step.question_id]
            purpose = "forward" if step.purpose == "reassign" else step.purpose
            if repo.delivery_exists(session, question_id=q.id, recipient=step.recipient, purpose=purpose):
                continue
            if step.purpose == "reassign":
                repo.audit(session, action="question:reassign", question_id=q.id,
                           previous=q.assignee, assignee=step.recipient)
                q.assignee, q.status, q.route_reason = step.recipient, "reassigned", step.reason
                session.add(q)
            message_id = outgoing_message_id(triage_id=q.triage_id, recipient=step.recipient, purpose=purpose)
            session.add(Delivery(question_id=q.id, recipient=step.recipient, purpose=purpose,
                                 message_id=message_id, payload=_notice(runtime, q, step, message_id)))
            counts[step.purpose] += 1
    sent = send_due(runtime.engine, runtime.sender, runtime.settings.delivery,
                    stopping=runtime.stopping, lock=runtime.sending)
    return counts | {"delivered": sent.delivered, "delivery_failed": sent.failed}


_SUBJECTS = {
    "reminder": "Herinnering: termijn vraag {kenmerk} nadert",
    "escalation": "Termijn verstreken: vraag {kenmerk}",
    "reassign": "Vraag {kenmerk} is aan u overgedragen",
}


def _notice(runtime, q: Question, step: Step, message_id: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = runtime.settings.delivery.from_
    msg["To"] = step.recipient
    msg["Subject"] = _SUBJECTS[step.purpose].format(kenmerk=q.triage_id)
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = q.message_id
    msg["References"] = q.message_id
    msg["X-BvhK-Triage"] = q.triage_id
    msg["X-BvhK-Triage-Original"] = q.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render("followup.txt.j2", step=step, question=q,
                           theme_name=runtime.ruleset.theme_name(q.theme) or "onbekend"))
    return msg.as_bytes()
