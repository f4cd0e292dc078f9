"""Deciding where a question goes: the admin's rules, then two built-in steps.

    rules of routing.toml, top to bottom  ->  "zekerheid"  ->  "toewijzing"

Every step read is recorded as a hit or a miss, so a contact person can ask "why did I get
this?" and an admin can replay history with other rules. Deciding only: no I/O, no clock
(`today` is passed in); sending and storing happen elsewhere, after the decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr
from functools import lru_cache

from rules.assignment import ContactState, assign
from rules.calendar import due_date
from rules.model import COORDINATOR, Region, Rule
from rules.ruleset import RuleSet

CONFIDENCE_STEP = "zekerheid"
URGENT = "hoog"  # the priority a rule gives urgent questions: they skip review
ASSIGNMENT_STEP = "toewijzing"


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What is known about a question when it is routed."""

    mailbox: str = ""
    mailbox_organisation: str = ""
    sender: str = ""
    theme: str | None = None
    theme_confidence: float = 0.0
    organisation: str | None = None  # the organisation that should answer; else the mailbox's
    organisation_confidence: float = 0.0
    asking_organisation: str | None = None
    region: str | None = None  # a region of the answering organisation (rules.resolve_region)
    region_confidence: float = 0.0
    text: str = ""
    min_confidence: float = 0.0  # below it the classifier abstains: the question goes to review


@dataclass(frozen=True)
class Decision:
    assignee: str | None  # the contact person's e-mail; None when the question goes to review
    rule: str  # the rule that decided, or "toewijzing" / "zekerheid"
    reason: str  # one sentence in Dutch
    review: bool = False
    copy_to: tuple[str, ...] = ()
    priority: str = "normaal"
    due_days: int | None = None
    hits: tuple[str, ...] = ()
    misses: tuple[str, ...] = ()
    organisation: str | None = None
    region: str | None = None  # where the assignee was found (after overflow)
    due_date: date | None = None  # the day passed in plus due_days working days
    due_rule: str = ""  # the rule that set due_days, or "thema <key>" for the theme's default


@dataclass
class _Outcome:
    """What the admin's rules said, gathered rule by rule."""

    hits: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    copy_to: list[str] = field(default_factory=list)
    priority: str = "normaal"
    priority_rule: str = ""
    due_days: int | None = None
    due_rule: str = ""
    person: str | None = None
    region: Region | None = None
    review: bool = False
    deciding: str | None = None
    note: str = ""


def decide(facts: Facts, *, ruleset: RuleSet, contacts: Sequence[ContactState], today: date | datetime) -> Decision:
    """Where the question goes, and why. `today` is when the question arrived: its term counts
    from that (Dutch) day."""
    organisation = facts.organisation or facts.mailbox_organisation
    region, region_note = _region(facts, organisation, ruleset)
    outcome = _read_rules(facts, organisation, region, ruleset)
    steps = [f"Thema {facts.theme or 'onbekend'}, {region_note}", outcome.note]
    doubt = _doubt(facts, organisation, ruleset)
    (outcome.hits if doubt else outcome.misses).append(CONFIDENCE_STEP)
    if doubt and not outcome.review and outcome.priority == URGENT:
        # urgent and unsure: no waiting in review, the coordinator decides today
        outcome.person, outcome.deciding = COORDINATOR, outcome.deciding or outcome.priority_rule
        steps.append(f"{doubt}, maar spoed (regel {outcome.priority_rule}): naar de coördinator in plaats van beoordeling")
        doubt = None
    if outcome.review or doubt:
        assignee, where = None, outcome.region.name if outcome.region else None
        rule = (outcome.deciding if outcome.review else None) or CONFIDENCE_STEP
        steps += ["" if outcome.review else doubt or "", "naar beoordeling"]
    else:
        chosen = assign(
            organisation=organisation, region=outcome.region, theme=facts.theme,
            strategy=ruleset.strategy_of(organisation), contacts=contacts, person=outcome.person,
        )
        (outcome.hits if chosen.assignee else outcome.misses).append(ASSIGNMENT_STEP)
        assignee, where, rule = chosen.assignee, chosen.region, outcome.deciding or ASSIGNMENT_STEP
        steps += [*chosen.notes, "" if chosen.assignee else "naar beoordeling"]
    due_days, due_rule = outcome.due_days, outcome.due_rule
    if due_days is None:
        due_days, due_rule = ruleset.due_days(facts.theme), f"thema {facts.theme}" if facts.theme else ""
    return Decision(
        assignee=assignee, rule=rule, reason=_sentence(steps), review=assignee is None,
        copy_to=tuple(dict.fromkeys(outcome.copy_to)), priority=outcome.priority, due_days=due_days,
        hits=tuple(outcome.hits), misses=tuple(outcome.misses), organisation=organisation or None,
        region=where, due_date=due_date(today, due_days) if due_days is not None else None,
        due_rule=due_rule if due_days is not None else "",
    )


def rule_holds(rule: Rule, facts: Facts, organisation: str, region: str | None) -> bool:
    """Whether every condition of `rule` holds for the question."""
    confidence = facts.theme_confidence
    return (
        (not rule.theme or facts.theme in rule.theme)
        and (not rule.organisation or organisation in rule.organisation)
        and (not rule.asking_organisation or facts.asking_organisation in rule.asking_organisation)
        and (not rule.region or region in rule.region)
        and (not rule.mailbox or facts.mailbox in rule.mailbox)
        and (not rule.sender or _sender_matches(rule.sender, facts.sender))
        and (rule.min_confidence is None or confidence >= rule.min_confidence)
        and (rule.max_confidence is None or confidence <= rule.max_confidence)
        and (not rule.words or _words(rule.words).search(facts.text) is not None)
    )


def _read_rules(facts: Facts, organisation: str, region: Region | None, ruleset: RuleSet) -> _Outcome:
    outcome = _Outcome(region=region)
    for rule in ruleset.rules:
        if not rule_holds(rule, facts, organisation, region.name if region else None):
            outcome.misses.append(rule.name)
            continue
        outcome.hits.append(rule.name)
        outcome.copy_to += rule.copy_to
        if rule.priority:
            outcome.priority, outcome.priority_rule = rule.priority, rule.name
        if rule.due_days is not None:
            outcome.due_days, outcome.due_rule = rule.due_days, rule.name
        if rule.review:
            outcome.review, outcome.deciding, outcome.note = True, rule.name, f"regel {rule.name}"
        elif rule.assign:
            outcome.person, outcome.deciding = rule.assign, rule.name
            outcome.note = f"regel {rule.name}" + (": coördinator" if rule.assign == COORDINATOR else "")
        elif rule.assign_region:
            moved = ruleset.region(organisation, rule.assign_region)
            if moved:
                outcome.region, outcome.person, outcome.deciding = moved, None, rule.name
                outcome.note = f"regel {rule.name}: regio {moved.name}"
            else:
                outcome.note = f"regel {rule.name}: {rule.assign_region} is geen regio van {organisation}"
        if rule.stop:
            break
    return outcome


def _region(facts: Facts, organisation: str, ruleset: RuleSet) -> tuple[Region | None, str]:
    """The question's region, or the organisation's default; with how to say it."""
    region = ruleset.region(organisation, facts.region)
    if region:
        unsure = facts.region_confidence < facts.min_confidence
        return region, f"regio {region.name}" + (" (onzeker)" if unsure else "")
    default = ruleset.default_region(organisation)
    if default is None:
        return None, f"{organisation or 'geen organisatie'} zonder regio's"
    why = f"{facts.region} is geen regio van {organisation}" if facts.region else "geen plaats gevonden"
    return default, f"regio {default.name} (standaard, {why})"


def _doubt(facts: Facts, organisation: str, ruleset: RuleSet) -> str | None:
    """Why the question needs a person's look first, if it does."""
    if facts.theme is None:
        return "geen thema herkend"
    if facts.theme not in ruleset.themes:
        return f"thema {facts.theme} staat niet in themes.toml"
    if facts.theme_confidence < facts.min_confidence:
        return f"thema onzeker ({facts.theme_confidence:.2f} < {facts.min_confidence:.2f})"
    moved = facts.mailbox_organisation and organisation != facts.mailbox_organisation
    if moved and facts.organisation_confidence < facts.min_confidence:
        return (f"organisatie {organisation} onzeker ({facts.organisation_confidence:.2f} "
                f"< {facts.min_confidence:.2f})")
    return None


def _sender_matches(patterns: tuple[str, ...], sender: str) -> bool:
    address = parseaddr(sender)[1].strip().lower()
    domain = address.rpartition("@")[2]
    for pattern in patterns:
        if pattern.startswith("@"):
            if domain == pattern[1:] or domain.endswith("." + pattern[1:]):
                return True
        elif address == pattern:
            return True
    return False


@lru_cache(maxsize=256)
def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _sentence(steps: list[str]) -> str:
    return "; ".join(step for step in steps if step)
