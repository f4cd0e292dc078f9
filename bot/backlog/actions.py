"""What people do with a question, the same from the command line, the web console and
Outlook: assign it by hand, correct it (which routes a question waiting in review), mark it
answered, send it back to review, and triage a quarantined mail again or hand it on unchanged.

Each action is one step in the caller's transaction: the change, its audit row with the
person as actor, and the deliveries it calls for. The original of a question that waited for
a person is attached to its forward as received, then no longer kept; where it is gone (a
question already forwarded once), the new contact person gets a notice with the kenmerk, as
reassignment by follow-up does, and finds the mail in the functional mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import rules
from bot.backlog.record import record_triage, reviewer
from bot.errors import ActionError
from bot.backlog.replay import stored_facts
from bot.ingest.limits import ParseError
from bot.outgoing.forwards import asked_in_one_line, forward, notice
from bot.settings import Settings
from bot.triage.absence import absent_on
from bot.triage.context import open_context
from bot.triage.pipeline import triage_message
from storage import repo
from storage.models import Correction, Question, utcnow

OPEN = ("routed", "reassigned", "review", "quarantine")
NOTICE = """Vraag {kenmerk} is aan u toegewezen door {actor}.

{reason}

De inhoud staat bewust niet in dit bericht: zoek het kenmerk of de onderwerpregel in de
functionele mailbox {mailbox}. Beantwoord de vraag met de functionele mailbox in kopie.
"""


@dataclass(frozen=True)
class Desk:
    """What the actions need besides the question: the settings, the rules, the contact persons."""

    settings: Settings
    ruleset: rules.RuleSet
    contacts: tuple[rules.Contact, ...]

    @classmethod
    def load(cls, settings: Settings) -> "Desk":
        ruleset = rules.load_ruleset(settings.routing.rules)
        return cls(settings, ruleset, tuple(rules.load_contacts(settings.routing.contacts, ruleset)))

    def contact(self, email: str) -> rules.Contact:
        wanted = email.strip().lower()
        found = next((c for c in self.contacts if c.email == wanted and c.active), None)
        if found is None:
            raise ActionError(f"'{email[:80]}' is geen actieve contactpersoon in {self.settings.routing.contacts}")
        return found


def find(session, ref: str) -> Question:
    question = repo.question_by_ref(session, ref=ref)
    if question is None or question.verdict not in ("question", "quarantine"):
        raise ActionError(f"vraag '{ref[:40]}' niet gevonden (gebruik het nummer of het kenmerk uit de doorgestuurde mail)")
    return question


def assign(session, desk: Desk, question: Question, email: str, *, actor: str, reason: str = "") -> None:
    """Give the question to a contact person by hand, and send it to them."""
    if question.status not in OPEN and question.status != "answered":
        raise ActionError(f"vraag {question.triage_id} heeft status {question.status}: toewijzen kan niet")
    person = desk.contact(email)
    previous = question.assignee
    why = f"toegewezen door {actor}" + (f": {reason}" if reason else "")
    _hand(session, desk, question, person.email, rule="handmatig", reason=why, actor=actor)
    repo.audit(session, action="question:assign", question_id=question.id, actor=actor, previous=previous,
               assignee=person.email)


def correct(session, desk: Desk, question: Question, *, theme: str | None, organisation: str | None,
            region: str | None, actor: str, via: str = "feedback") -> str:
    """Record a person's correction (training data); a question waiting in review is routed with
    it at once. Returns what happened, in one Dutch line."""
    theme = _record_correction(session, desk, question, theme=theme, organisation=organisation, region=region,
                               actor=actor, via=via)
    if question.status != "review":
        return f"correctie vastgelegd voor vraag {question.triage_id}"
    return route_again(session, desk, question, actor=actor, theme=theme, organisation=organisation,
                       region=region)


def resolve(session, desk: Desk, question: Question, *, theme: str | None, organisation: str | None,
            region: str | None, person: str | None, actor: str) -> str:
    """A reviewer's decision on a question in review, in one step: what they said about it is
    recorded as a correction, and the question goes to the person they picked, or where the
    rules route it with their word. A quarantined mail goes to the person picked unchanged."""
    if question.status == "quarantine":
        if not person:
            raise ActionError(f"{question.triage_id} staat in quarantaine: kies de persoon die de mail ongewijzigd krijgt")
        hand_on(session, desk, question, person, actor=actor)
        return f"{question.triage_id} ongewijzigd doorgestuurd aan {person}"
    if question.status != "review":
        raise ActionError(f"vraag {question.triage_id} heeft status {question.status}: niet ter beoordeling")
    if not (theme or organisation or region or person):
        raise ActionError("kies een thema, organisatie, regio of persoon")
    theme = _record_correction(session, desk, question, theme=theme, organisation=organisation, region=region,
                               actor=actor, via="beoordeling")
    if person:
        question.theme = theme
        question.organisation = organisation or question.organisation
        question.region = region or question.region
        assign(session, desk, question, person, actor=actor, reason="na beoordeling")
        return f"vraag {question.triage_id} beoordeeld en toegewezen aan {person.strip().lower()}"
    return route_again(session, desk, question, actor=actor, theme=theme, organisation=organisation, region=region)


def _record_correction(session, desk: Desk, question: Question, *, theme: str | None, organisation: str | None,
                       region: str | None, actor: str, via: str) -> str | None:
    """Store what a person said (the newest word counts); returns the theme it leaves."""
    if theme is not None and theme not in desk.ruleset.theme_keys():
        raise ActionError(f"onbekend thema '{theme}' (bekend: {', '.join(desk.ruleset.theme_keys())})")
    if organisation is not None and organisation not in rules.ORGANISATIONS:
        raise ActionError(f"onbekende organisatie '{organisation}' (bekend: {', '.join(rules.ORGANISATIONS)})")
    known_regions = {r.name for r in desk.ruleset.regions}
    if region is not None and region not in known_regions:
        raise ActionError(f"onbekende regio '{region}' (bekend: {', '.join(sorted(known_regions))})")
    earlier = repo.corrections_of(session, question_id=question.id)
    current = earlier[-1].theme if earlier else question.theme
    repo.add_correction(session, correction=Correction(question_id=question.id, theme=theme or current,
                                                       organisation=organisation, region=region, by=actor))
    question.corrected = True
    session.add(question)
    repo.audit(session, action="correction", question_id=question.id, actor=actor, via=via,
               theme_before=current, theme_after=theme or current, organisation_after=organisation)
    return theme or current


def route_again(session, desk: Desk, question: Question, *, actor: str, theme: str | None,
                organisation: str | None, region: str | None) -> str:
    """Route a question in review with what a person said about it (their word is certain)."""
    facts = stored_facts(question, min_confidence=0.0,
                         mailbox_organisation=desk.settings.mailbox_organisations.get(question.mailbox, ""))
    facts = replace(facts, theme=theme, theme_confidence=1.0, organisation=organisation or question.organisation,
                    organisation_confidence=1.0, region=region or question.region,
                    region_confidence=1.0 if region else facts.region_confidence)
    load = repo.open_counts(session)
    away = absent_on(session, desk.settings, desk.contacts, utcnow().date())
    states = [rules.ContactState(contact=c, open_questions=load.get(c.email, 0), absent=c.email in away)
              for c in desk.contacts]
    decision = rules.decide(facts, ruleset=desk.ruleset, contacts=states, today=question.received_at or utcnow())
    question.theme, question.organisation = theme, facts.organisation
    question.region = facts.region
    if decision.assignee is None:
        session.add(question)
        return f"correctie vastgelegd; vraag {question.triage_id} blijft ter beoordeling: {decision.reason}"
    question.rules_hit, question.rules_missed = list(decision.hits), list(decision.misses)
    question.priority, question.due_on, question.due_rule = decision.priority, decision.due_date, decision.due_rule
    question.region_found = decision.region
    _hand(session, desk, question, decision.assignee, rule=decision.rule,
          reason=f"na correctie door {actor}: {decision.reason}", actor=actor)
    repo.audit(session, action="question:route", question_id=question.id, actor=actor, rule=decision.rule,
               hits=list(decision.hits), assignee=decision.assignee)
    return f"correctie vastgelegd; vraag {question.triage_id} doorgestuurd naar {decision.assignee}"


def mark_answered(session, question: Question, *, actor: str, reason: str) -> None:
    if not reason.strip():
        raise ActionError("geef een reden (bijvoorbeeld: telefonisch beantwoord)")
    if question.status not in OPEN:
        raise ActionError(f"vraag {question.triage_id} heeft status {question.status}: niet open")
    repo.record_answer(session, question=question, at=utcnow(), via="person")
    repo.audit(session, action="question:answered_by_hand", question_id=question.id, actor=actor,
               reason=reason.strip()[:300])


def send_to_review(session, desk: Desk, question: Question, *, actor: str, reason: str) -> None:
    """Back to review: the reviewer of its mailbox's organisation gets a notice with the kenmerk."""
    if question.status not in ("routed", "reassigned"):
        raise ActionError(f"vraag {question.triage_id} heeft status {question.status}: niet terug te zetten")
    previous, question.assignee, question.status = question.assignee, None, "review"
    question.route_reason = f"terug naar beoordeling door {actor}" + (f": {reason}" if reason else "")
    session.add(question)
    repo.audit(session, action="question:review", question_id=question.id, actor=actor, previous=previous)
    to = reviewer(desk.settings, desk.contacts, question.mailbox)
    if to and not repo.delivery_exists(session, question_id=question.id, recipient=to, purpose="review"):
        session.add(notice(question.id, triage_id=question.triage_id, recipient=to, purpose="review",
                           subject=f"[BvhK ter beoordeling {question.triage_id}] terug naar beoordeling",
                           text=NOTICE.format(kenmerk=question.triage_id, actor=actor, reason=question.route_reason,
                                              mailbox=question.mailbox),
                           sender=desk.settings.delivery.from_))


def release(session, desk: Desk, question: Question, *, actor: str, model, engine) -> str:
    """Triage a quarantined mail again (after a fix, or with a raised limit): it keeps its kenmerk."""
    if question.status != "quarantine":
        raise ActionError(f"vraag {question.triage_id} staat niet in quarantaine")
    raw = repo.original(session, question_id=question.id)
    if raw is None:
        raise ActionError(f"van {question.triage_id} is het origineel niet meer bewaard")
    config = next((m for m in desk.settings.mailboxes if m.name == question.mailbox), None)
    ctx = open_context(desk.settings, config=config, ruleset=desk.ruleset, contacts=list(desk.contacts),
                       model=model, engine=engine, today=utcnow().date())
    ctx.already_seen = lambda message_id: repo.message_id_seen(session, message_id=message_id, except_id=question.id)
    try:
        triage = triage_message(raw, source_id=question.source_id, ctx=ctx)
    except ParseError as exc:
        raise ActionError(f"nog steeds niet te triëren: {exc}") from None
    record_triage(session, triage, raw, settings=desk.settings, ruleset=desk.ruleset, contacts=desk.contacts,
                  existing=question)
    if question.status != "review":
        repo.drop_original(session, question_id=question.id)
    repo.audit(session, action="quarantine:release", question_id=question.id, actor=actor, status=question.status)
    return f"vraag {question.triage_id} opnieuw getrieerd: {question.status}" + (
        f" naar {question.assignee}" if question.assignee else "")


def hand_on(session, desk: Desk, question: Question, email: str, *, actor: str) -> None:
    """Hand a quarantined mail to a person unchanged: too big or too odd to classify is not too
    big to deliver."""
    if question.status != "quarantine":
        raise ActionError(f"vraag {question.triage_id} staat niet in quarantaine")
    person = desk.contact(email)
    _hand(session, desk, question, person.email, rule="quarantaine",
          reason=f"ongewijzigd doorgestuurd door {actor} (niet getrieerd: {question.verdict_reason})", actor=actor,
          label="niet getrieerd")
    repo.audit(session, action="quarantine:forward", question_id=question.id, actor=actor, assignee=person.email)


def _hand(session, desk: Desk, question: Question, email: str, *, rule: str, reason: str, actor: str,
          label: str | None = None) -> None:
    was_routed = question.status in ("routed", "reassigned") and question.assignee
    question.assignee, question.rule, question.route_reason = email, rule, reason
    question.status = "reassigned" if was_routed else "routed"
    question.routed_at = utcnow()
    if question.due_on is None:
        days = desk.ruleset.due_days(question.theme)
        question.due_on = rules.due_date(question.received_at or utcnow(), days if days is not None else 10)
        question.due_rule = f"thema {question.theme}" if days is not None else "standaard"
    session.add(question)
    session.flush()
    if repo.delivery_exists(session, question_id=question.id, recipient=email, purpose="forward"):
        return  # they had it before: the Message-ID would be the same
    raw = repo.original(session, question_id=question.id)
    if raw is not None:
        mailbox = next((m for m in desk.settings.mailboxes if m.name == question.mailbox), None)
        session.add(forward(question, raw=raw, subject=question.subject, asked=asked_in_one_line(question.body or ""),
                            recipient=email, purpose="forward",
                            settings=desk.settings, theme_name=label or desk.ruleset.theme_name(question.theme),
                            asker=question.sender if mailbox else ""))
        repo.drop_original(session, question_id=question.id)
    else:
        session.add(notice(question.id, triage_id=question.triage_id, recipient=email, purpose="forward",
                           subject=f"[BvhK {question.triage_id}] vraag aan u toegewezen",
                           text=NOTICE.format(kenmerk=question.triage_id, actor=actor, reason=reason,
                                              mailbox=question.mailbox),
                           sender=desk.settings.delivery.from_, refers_to=question.message_id))
