"""`rules replay`: what would a change of rules or contacts have done to past questions?

Stored questions are routed again, in the order they arrived, twice: once with the rules
and contacts in force and once with the candidates. Both runs simulate the load the same
way (a question counts against its contact person from its arrival until its first
answer), so the difference between them is the effect of the change alone. Nothing is
stored or sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

import rules
from storage.db import unit_of_work
from storage.models import Absence, Question


@dataclass(frozen=True)
class Change:
    question_id: int
    triage_id: str
    received_at: datetime | None
    theme: str | None
    before: rules.Decision
    after: rules.Decision

    def as_dict(self) -> dict:
        def side(d: rules.Decision) -> dict:
            return {"assignee": d.assignee, "review": d.review, "rule": d.rule, "priority": d.priority,
                    "copy_to": list(d.copy_to), "reason": d.reason}

        return {"id": self.question_id, "triage_id": self.triage_id, "theme": self.theme,
                "received_at": self.received_at.isoformat() if self.received_at else None,
                "before": side(self.before), "after": side(self.after)}


def _outcome(d: rules.Decision) -> tuple:
    return (d.assignee, d.review, tuple(d.copy_to), d.priority, d.due_days)


def replay(
    engine: Engine,
    *,
    since: date | None,
    current: tuple[rules.RuleSet, list[rules.Contact]],
    candidate: tuple[rules.RuleSet, list[rules.Contact]],
    min_confidence: float,
    mailbox_organisation: Mapping[str, str],
) -> dict:
    """`since` None: all stored history. `mailbox_organisation`: each mailbox's organisation."""
    query = select(Question).where(Question.verdict == "question")
    if since is not None:
        query = query.where(Question.received_at >= _start_of(since))
    with unit_of_work(engine) as session:
        questions = session.exec(query.order_by(Question.received_at, Question.id)).all()
        absences = session.exec(select(Absence)).all()
    routed = dict(absences=absences, min_confidence=min_confidence, mailbox_organisation=mailbox_organisation)
    before = _route_all(questions, *current, **routed)
    after = _route_all(questions, *candidate, **routed)
    changes = [
        Change(q.id, q.triage_id, q.received_at, q.theme, b, a)
        for q, b, a in zip(questions, before, after)
        if _outcome(b) != _outcome(a)
    ]
    moved = Counter((c.before.assignee or "review", c.after.assignee or "review") for c in changes)
    return {
        "since": since.isoformat() if since else (questions[0].received_at.date().isoformat()
                                                  if questions and questions[0].received_at else None),
        "questions": len(questions),
        "changed": len(changes),
        "to_review": sum(c.after.review and not c.before.review for c in changes),
        "from_review": sum(c.before.review and not c.after.review for c in changes),
        "moves": [{"from": f, "to": t, "count": n} for (f, t), n in moved.most_common()],
        "changes": [c.as_dict() for c in changes],
    }


def _route_all(questions, ruleset: rules.RuleSet, contacts: list[rules.Contact], *, absences, min_confidence: float,
               mailbox_organisation: Mapping[str, str]):
    """Route each question in arrival order, with the load each decision leaves behind."""
    open_until: dict[str, list[datetime | None]] = {}
    last: dict[str, datetime] = {}
    decisions = []
    for q in questions:
        now = q.received_at
        day = now.date() if now else date.today()
        load = {
            email: sum(1 for until in untils if until is None or until > now)
            for email, untils in open_until.items()
        }
        away = {a.email for a in absences if a.start <= day <= a.end}
        states = [
            rules.ContactState(contact=c, open_questions=load.get(c.email, 0),
                               absent=c.email in away, last_assigned=last.get(c.email))
            for c in contacts
        ]
        facts = stored_facts(q, min_confidence=min_confidence,
                             mailbox_organisation=mailbox_organisation.get(q.mailbox, ""))
        decision = rules.decide(facts, ruleset=ruleset, contacts=states, today=now or day)
        if decision.assignee and not decision.review:
            open_until.setdefault(decision.assignee, []).append(q.answered_at)
            last[decision.assignee] = now
        decisions.append(decision)
    return decisions


def stored_facts(q: Question, *, min_confidence: float, mailbox_organisation: str) -> rules.Facts:
    """The facts routing saw, rebuilt from a stored question (its text only while kept).
    `mailbox_organisation` is the organisation of the mailbox the question arrived in."""
    return rules.Facts(
        mailbox=q.mailbox, mailbox_organisation=mailbox_organisation, sender=q.sender,
        theme=q.theme, theme_confidence=q.theme_confidence, organisation=q.organisation,
        organisation_confidence=q.organisation_confidence, asking_organisation=q.asking_organisation,
        region=q.region, region_confidence=q.region_confidence,
        text=f"{q.subject}\n{q.body or ''}", min_confidence=min_confidence,
    )


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def load_candidate(rules_dir: Path | None, contacts_file: Path | None, *, settings) -> tuple[rules.RuleSet, list[rules.Contact]]:
    ruleset = rules.load_ruleset(rules_dir or settings.routing.rules)
    return ruleset, rules.load_contacts(contacts_file or settings.routing.contacts, ruleset)
