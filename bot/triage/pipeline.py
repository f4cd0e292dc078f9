"""The pipeline: how one mail becomes a routed question. Read this file first.

    raw bytes ─ parse ─▶ Message ─┬─ screen    automatic reply, bounce, answer, own message, duplicate?
                                  ├─ classify  theme, answering organisation (or the mailbox's), asking
                                  ├─ locate    region of the answering organisation
                                  └─ route     rules, then a contact person (or review), and the due date

Each stage is a small function from a `Triage` to a `Triage` with one more field filled
in; none of them writes anything. Everything a question's row records is decided here, and
each decision carries its why: which screening rules and routing rules said yes and no, where
the organisation came from (model or mailbox), where the region was found and where the
contact person, what set the due date. Storing the decision and sending happen afterwards, in
one place (`bot.service.worker`), so `classify` (the command) runs the very same stages
without side effects. A poll parses its mail and asks the model in batches (`prepare`); the
stages then run per mail, in order, on what was prepared. What the stages read besides the message is `bot.triage.context`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import rules
from bot.ingest.parse import ParseError, parse_message
from bot.message import Classification, Label, Route, Triage
from bot.triage.context import Context, Directory
from bot.triage.screen import ScreenContext, screen
from classifiers import question_text


def screen_stage(triage: Triage, ctx: Context) -> Triage:
    contact_persons = frozenset(c.email.lower() for c in ctx.directory.contacts)
    verdict = screen(triage.message, ScreenContext(
        own_addresses=frozenset(a.lower() for a in ctx.own_addresses), already_seen=ctx.already_seen,
        shared_address=ctx.shared_address, contact_persons=contact_persons, known_question=ctx.known_question,
        question_with_kenmerk=ctx.question_with_kenmerk))
    return triage.with_(screening=verdict)


def model_text(message) -> str:
    """What the models read of a mail: subject, the question with its signature (as in the
    labelled data: the signature names who asks) and the sender's domain."""
    return question_text(message.subject, f"{message.question}\n\n{message.signature}", message.sender)


def classify_stage(triage: Triage, ctx: Context) -> Triage:
    message = triage.message
    predictions = triage.predictions if triage.predictions is not None else ctx.model.predict(model_text(message))
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
    mailbox = ctx.mailbox_organisation
    moves = (answering is not None and mailbox and answering.label != mailbox and ctx.model.move_threshold is not None
             and answering.confidence >= ctx.model.move_threshold)
    if answering is not None and (moves or not mailbox):
        answering_label, source = Label(answering.label, answering.confidence), "model"
    else:
        # the mailbox it came to answers, unless the model is surer than its tuned threshold that
        # another organisation should; stored with the probability the model gave the mailbox's
        answering_label = Label(mailbox, answering.probabilities.get(mailbox, 0.0) if answering else 0.0)
        source = "mailbox"
    return triage.with_(
        classification=Classification(
            theme=Label(theme.label, theme.confidence) if theme else Label(None, 0.0),
            organisation=answering_label,
            asking_organisation=asking_label,
            organisation_source=source,
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
    arrived = message.date or ctx.today  # the term counts from the (Dutch) day the question arrived
    decision = rules.decide(facts, ruleset=ctx.ruleset, contacts=ctx.directory.states(), today=arrived)
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
            organisation=decision.organisation,
            region=decision.region,
            due_on=decision.due_date,
            due_rule=decision.due_rule,
        )
    )


STAGES: tuple[Callable[[Triage, Context], Triage], ...] = (
    screen_stage,
    classify_stage,
    locate_stage,
    route_stage,
)


def prepare(items: Sequence[tuple[bytes, str]], ctx: Context) -> list[Triage | ParseError]:
    """What can be done for a batch of mails (raw bytes, source id) before any of them is
    decided: parse each, and ask the model about all of them at once, which costs a fraction
    per mail of asking one at a time. The stages themselves stay per mail and in arrival
    order (`triage_message`), since screening reads what the mails before decided."""
    ready: list[Triage | ParseError] = []
    for raw, source_id in items:
        try:
            ready.append(Triage(message=parse_message(raw, mailbox=ctx.mailbox, source_id=source_id, limits=ctx.limits)))
        except ParseError as exc:
            ready.append(exc)
    parsed = [triage for triage in ready if isinstance(triage, Triage)]
    predictions = ctx.model.predict_many([model_text(triage.message) for triage in parsed])
    ahead = {id(triage): triage.with_(predictions=found) for triage, found in zip(parsed, predictions)}
    return [ahead.get(id(triage), triage) for triage in ready]


def triage_message(raw: bytes, *, source_id: str, ctx: Context, ready: Triage | ParseError | None = None) -> Triage:
    """Run every stage on one raw mail (`ready`: what `prepare` made of it already). Raises
    `bot.ingest.limits.ParseError` for what cannot be read."""
    triage = ready if ready is not None else prepare([(raw, source_id)], ctx)[0]
    if isinstance(triage, ParseError):
        raise triage
    for stage in STAGES:
        triage = stage(triage, ctx)
        if not triage.screening.is_question:
            break
    return triage


__all__ = ["Context", "Directory", "STAGES", "prepare", "triage_message"]
