"""The pipeline: how one mail becomes a routed question. Read this file first.

    raw bytes ─ parse ─▶ Message ─┬─ screen    automatic reply, bounce, own message, duplicate?
                                  ├─ classify  theme, answering and asking organisation
                                  ├─ locate    region of the answering organisation
                                  └─ route     rules, then a contact person (or review)

Each stage is a small function from a `Triage` to a `Triage` with one more field filled
in; none of them writes anything. Storing the decision and sending happen afterwards, in
one place (`bot.service.worker`), so `classify` (the command) runs the very same stages without
side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import rules
from bot.ingest.parse import ParseLimits, parse_message
from bot.message import Classification, Label, Route, Screening, Triage
from bot.triage.screen import screen
from classifiers import TriageModel, abstains, question_text


@dataclass
class Directory:
    """The contact persons as routing sees them today: who is absent, how full each is."""

    contacts: list[rules.Contact]
    open_questions: dict[str, int] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    last_assigned: dict[str, datetime] = field(default_factory=dict)

    def states(self) -> list[rules.ContactState]:
        return [
            rules.ContactState(
                contact=c,
                open_questions=self.open_questions.get(c.email, 0),
                absent=c.email in self.absent,
                last_assigned=self.last_assigned.get(c.email),
            )
            for c in self.contacts
        ]

    def assigned(self, email: str, when: datetime) -> None:
        """Count a new assignment, so the next question in the same poll sees it."""
        self.open_questions[email] = self.open_questions.get(email, 0) + 1
        self.last_assigned[email] = when


@dataclass
class Context:
    """What the stages read: one per mailbox per poll."""

    mailbox: str
    mailbox_organisation: str
    ruleset: rules.RuleSet
    model: TriageModel
    directory: Directory
    min_confidence: float
    own_addresses: frozenset[str]
    already_seen: Callable[[str], bool]
    today: date
    limits: ParseLimits = field(default_factory=ParseLimits)


def screen_stage(triage: Triage, ctx: Context) -> Triage:
    verdict = screen(triage.message, own_addresses=ctx.own_addresses, already_seen=ctx.already_seen)
    return triage.with_(screening=verdict)


def classify_stage(triage: Triage, ctx: Context) -> Triage:
    message = triage.message
    predictions = ctx.model.predict(question_text(message.subject, message.question))
    theme = predictions.get("theme")
    answering = predictions.get("organisation")
    asking = predictions.get("asking_organisation")
    known = rules.known_sender(message.sender, ctx.ruleset)
    if known is not None:
        asking_label = Label(known.organisation, 1.0)
    elif asking is not None:
        asking_label = Label(asking.label, asking.confidence)
    else:
        asking_label = Label(None, 0.0)
    if answering is None or abstains(answering, ctx.min_confidence):
        # the classifier is unsure who should answer: the mailbox it came to answers
        answering_label = Label(ctx.mailbox_organisation, answering.confidence if answering else 0.0)
    else:
        answering_label = Label(answering.label, answering.confidence)
    return triage.with_(
        classification=Classification(
            theme=Label(theme.label, theme.confidence) if theme else Label(None, 0.0),
            organisation=answering_label,
            asking_organisation=asking_label,
            explanation=tuple(theme.explanation) if theme else (),
            model_version=ctx.model.version,
        )
    )


def locate_stage(triage: Triage, ctx: Context) -> Triage:
    message = triage.message
    found = rules.resolve_region(
        organisation=triage.classification.organisation.label,
        text=f"{message.subject}\n{message.question}",
        signature=message.signature,
        sender=message.sender,
        ruleset=ctx.ruleset,
    )
    return triage.with_(region=Label(found.region, found.confidence), region_reason=found.reason)


def route_stage(triage: Triage, ctx: Context) -> Triage:
    message, cls = triage.message, triage.classification
    facts = rules.Facts(
        mailbox=ctx.mailbox,
        mailbox_organisation=ctx.mailbox_organisation,
        sender=message.sender,
        theme=cls.theme.label,
        theme_confidence=cls.theme.confidence,
        organisation=cls.organisation.label,
        organisation_confidence=cls.organisation.confidence,
        asking_organisation=cls.asking_organisation.label,
        region=triage.region.label,
        region_confidence=triage.region.confidence,
        text=f"{message.subject}\n{message.question}",
        min_confidence=ctx.min_confidence,
    )
    decision = rules.decide(facts, ruleset=ctx.ruleset, contacts=ctx.directory.states(), today=ctx.today)
    return triage.with_(
        route=Route(
            assignee=decision.assignee,
            rule=decision.rule,
            reason=decision.reason,
            review=decision.review,
            copy_to=tuple(decision.copy_to),
            priority=decision.priority,
            due_days=decision.due_days,
            hits=tuple(decision.hits),
            misses=tuple(decision.misses),
        )
    )


STAGES: tuple[Callable[[Triage, Context], Triage], ...] = (
    screen_stage,
    classify_stage,
    locate_stage,
    route_stage,
)


def triage_message(raw: bytes, *, source_id: str, ctx: Context, screening: Screening | None = None) -> Triage:
    """Run every stage on one raw mail. Raises `bot.ingest.parse.ParseError` for what cannot be read.

    A `screening` decided beforehand (a contact person's answer, recognised by reply
    detection) replaces the stages: the mail is recorded, not routed."""
    triage = Triage(message=parse_message(raw, mailbox=ctx.mailbox, source_id=source_id, limits=ctx.limits))
    if screening is not None:
        return triage.with_(screening=screening)
    for stage in STAGES:
        triage = stage(triage, ctx)
        if not triage.screening.is_question:
            break
    return triage


def skipped(triage: Triage) -> bool:
    return triage.screening is not None and not triage.screening.is_question


__all__ = ["Context", "Directory", "STAGES", "Screening", "triage_message", "skipped"]
