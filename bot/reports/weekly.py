"""The weekly report for the SKIV meeting: aggregates only, built from the database.

Sections: what reached the mailboxes (per theme, asking organisation and region, week over
week); how fast it was answered (median and 90th percentile, share before the due date,
per answering organisation); the backlog's trend; questions sent to review or reassigned;
each contact person's load (counts only); and emerging signals for the SKIV agenda:
themes and terms rising against the earlier weeks, and groups of questions the
classifier was unsure about.

No message text leaves this module. Terms come only from a controlled vocabulary (the
themes' seed terms and reviewed signal terms in themes.toml), matched when a question is
recorded and kept after its text is purged: no word a person wrote outside that list, so
no name, street or condition, can reach the report.
Weeks are ISO weeks in Dutch time (Monday to Sunday).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import select

import rules
from bot.render import render
from bot.reports import agenda
from bot.reports.agenda import ActionRow
from bot.settings import Settings
from storage import repo
from storage.db import unit_of_work
from storage.models import AuditEntry, Question

LOCAL = ZoneInfo("Europe/Amsterdam")
COUNTED_STATES = ("routed", "review", "reassigned", "answered", "closed")
REVIEW_ACTION = "triage:review"  # written by the worker when a question goes to review
REASSIGN_ACTION = "question:reassign"  # written when a person hands a question to someone else
MIN_SIGNAL = 3  # a theme or term must reach this many questions in the week to be a signal
RISE = 1.5  # ... and this many times its mean over the earlier weeks
UNKNOWN = "onbekend"


# --- weeks -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: date  # a Monday

    @property
    def iso(self) -> str:
        year, number, _ = self.start.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def short(self) -> str:
        return f"wk {self.start.isocalendar()[1]}"

    @property
    def end(self) -> date:  # the Sunday
        return self.start + timedelta(days=6)

    @property
    def begins(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=LOCAL)

    @property
    def ends(self) -> datetime:
        return datetime.combine(self.start + timedelta(days=7), time(0), tzinfo=LOCAL)


def parse_week(text: str) -> Week:
    """'2025-W14' (ISO week) as a Week; ValueError for anything else."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    if not match:
        raise ValueError(f"week '{text}' is not of the form YYYY-Www (e.g. 2025-W14)")
    try:
        return Week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except ValueError:
        raise ValueError(f"week '{text}' does not exist") from None


def last_complete_week(today: date) -> Week:
    return Week(today - timedelta(days=today.weekday() + 7))


def week_of(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def latest_week(engine: Engine) -> Week | None:
    """The week of the most recently received question (what a demo over old mail reports on)."""
    with unit_of_work(engine) as session:
        newest = session.exec(select(func.max(Question.received_at)).where(Question.verdict == "question")).one()
    return week_of(newest.astimezone(LOCAL).date()) if newest else None


# --- what the report shows -------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeRow:
    label: str
    counts: tuple[int, ...]  # one per week, oldest first

    @property
    def this_week(self) -> int:
        return self.counts[-1]

    @property
    def change(self) -> int:
        return self.counts[-1] - self.counts[-2]


@dataclass(frozen=True)
class VolumeTable:
    title: str  # "thema", "vragende organisatie", "regio"
    rows: tuple[VolumeRow, ...]


@dataclass(frozen=True)
class ResponseRow:
    organisation: str
    answered: int
    median_days: float | None
    p90_days: float | None
    on_time: float | None  # share of the answered questions with a due date, answered by it
    previous_median_days: float | None


@dataclass(frozen=True)
class BacklogPoint:
    week: Week
    received: int
    answered: int
    open: int  # at the end of the week
    overdue: int  # open at the end of the week and past the due date


@dataclass(frozen=True)
class ReroutingRow:
    week: Week
    to_review: int
    reassigned: int


@dataclass(frozen=True)
class LoadRow:
    name: str
    organisation: str
    region: str
    capacity: int | None
    assigned: int  # in the week
    answered: int  # in the week
    open: int  # at the end of the week
    overdue: int  # at the end of the week


@dataclass(frozen=True)
class Signal:
    label: str
    this_week: int
    earlier_mean: float

    @property
    def new(self) -> bool:
        return self.earlier_mean == 0


@dataclass(frozen=True)
class UnsureGroup:
    theme: str  # the classifier's best guess
    asking_organisation: str
    this_week: int
    earlier_mean: float


@dataclass(frozen=True)
class Report:
    week: Week
    weeks: tuple[Week, ...]  # oldest first; the last one is `week`
    volumes: tuple[VolumeTable, ...]
    response_times: tuple[ResponseRow, ...]
    backlog: tuple[BacklogPoint, ...]
    backlog_per_organisation: dict[str, int]  # open at the end of the week
    rerouting: tuple[ReroutingRow, ...]
    rerouted_per_organisation: dict[str, tuple[int, int]]  # (to review, reassigned) in the week
    contact_load: tuple[LoadRow, ...]
    rising_themes: tuple[Signal, ...]
    rising_terms: tuple[Signal, ...]
    unsure_groups: tuple[UnsureGroup, ...]
    min_confidence: float
    action_points: tuple[ActionRow, ...] = ()  # the SKIV's items and actions: current, or closed in the week

    @property
    def now(self) -> BacklogPoint:
        return self.backlog[-1]

    @property
    def previous(self) -> BacklogPoint:
        return self.backlog[-2]

    @property
    def subject(self) -> str:
        return f"Weekrapport Belang van het Kind, week {self.week.start.isocalendar()[1]} ({self.week.iso})"

    def html(self, images: dict[str, str]) -> str:
        """The HTML; `images` maps a chart name to its src (a file name, or cid:… in mail)."""
        return render("report.html.j2", report=self, images=images)

    def text(self) -> str:
        return render("report.txt.j2", report=self)


# --- the facts the figures are counted from --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fact:
    """One question as the report sees it: labels, times and the words of its subject."""

    received_at: datetime
    routed_at: datetime | None
    answered_at: datetime | None
    resolved_at: datetime | None  # answered or closed, whichever came first
    theme: str
    organisation: str
    asking: str
    region: str
    assignee: str | None
    due_on: date | None
    unsure: bool
    terms: frozenset[str]

    def open_at(self, moment: datetime) -> bool:
        return self.received_at < moment and (self.resolved_at is None or self.resolved_at >= moment)

    def overdue_on(self, day: date) -> bool:
        """Past the due date on `day` (whether it is still open is `open_at`'s to say)."""
        return self.due_on is not None and self.due_on < day


def backlog_at(facts: list[Fact], moment: datetime) -> tuple[list[Fact], int]:
    """The questions open at `moment`, and how many of them are past their due date."""
    day = moment.astimezone(LOCAL).date()
    still_open = [f for f in facts if f.open_at(moment)]
    return still_open, sum(f.overdue_on(day) for f in still_open)


def load_facts(engine: Engine, *, since: datetime, until: datetime, min_confidence: float,
               themes: dict[str, str], mailbox_organisation: dict[str, str]) -> list[Fact]:
    """Questions received before `until` that were received, or still open, after `since`.
    A question without an answering organisation counts for its mailbox's organisation."""
    q = Question
    query = (
        select(q.received_at, q.routed_at, q.answered_at, q.closed_at, q.status, q.theme, q.theme_confidence,
               q.organisation, q.mailbox, q.asking_organisation, q.region, q.assignee, q.due_on, q.signal_terms)
        .where(q.verdict == "question", q.status.in_(COUNTED_STATES), q.received_at.is_not(None),
               q.received_at < until)
        .where(or_(q.received_at >= since, and_(q.answered_at.is_(None), q.closed_at.is_(None)),
                   q.answered_at >= since, q.closed_at >= since))
    )
    with unit_of_work(engine) as session:
        rows = session.exec(query).all()
    facts = []
    for (received, routed, answered, closed, status, theme, confidence, organisation, mailbox,
         asking, region, assignee, due_on, signal_terms) in rows:
        organisation = organisation or mailbox_organisation.get(mailbox)
        ends = [t for t in (answered, closed) if t is not None]
        if not ends and status in ("answered", "closed"):
            ends = [received]  # resolved at an unknown moment: not in the backlog
        facts.append(Fact(
            received_at=received, routed_at=routed, answered_at=answered,
            resolved_at=min(ends) if ends else None,
            theme=themes.get(theme, theme) if theme else "geen thema",
            organisation=organisation or UNKNOWN, asking=asking or UNKNOWN,
            region=f"{organisation or UNKNOWN} {region}" if region else f"{organisation or UNKNOWN} (geen regio)",
            assignee=assignee, due_on=due_on,
            unsure=status == "review" or theme is None or confidence < min_confidence,
            terms=frozenset(signal_terms or ()),
        ))
    return facts


def load_theme_names(rules_dir: Path) -> dict[str, str]:
    """Theme key → the name people read, from the rules folder (read and checked by `rules`)."""
    return {key: theme.name for key, theme in rules.load_ruleset(rules_dir).themes.items()}


# --- counting --------------------------------------------------------------------------------
def build_report(settings: Settings, engine: Engine, *, week: Week | None = None,
                 today: date | None = None) -> Report:
    """The report over `week` (default: the last complete week) and the weeks before it."""
    today = today or datetime.now(LOCAL).date()
    week = week or last_complete_week(today)
    weeks = tuple(Week(week.start - timedelta(weeks=n)) for n in range(settings.reports.weeks - 1, -1, -1))
    min_confidence = settings.classifier.min_confidence
    facts = load_facts(engine, since=weeks[0].begins, until=week.ends, min_confidence=min_confidence,
                       themes=load_theme_names(settings.routing.rules),
                       mailbox_organisation=settings.mailbox_organisations)
    received = _by_week(facts, weeks, lambda f: f.received_at)
    answered = _by_week([f for f in facts if f.answered_at], weeks, lambda f: f.answered_at)
    with unit_of_work(engine) as session:
        contacts = list(repo.contacts(session))
        action_points = tuple(agenda.for_report(session, since=week.begins, until=week.ends))
    audit = load_rerouting(engine, weeks=weeks)
    backlogs = [backlog_at(facts, w.ends) for w in weeks]
    return Report(
        week=week,
        weeks=weeks,
        volumes=(
            volume_table("thema", received, lambda f: f.theme),
            volume_table("vragende organisatie", received, lambda f: f.asking),
            volume_table("regio", received, lambda f: f.region),
        ),
        response_times=response_times(answered),
        backlog=tuple(
            BacklogPoint(w, len(received[i]), len(answered[i]), len(backlogs[i][0]), backlogs[i][1])
            for i, w in enumerate(weeks)
        ),
        backlog_per_organisation=dict(sorted(Counter(f.organisation for f in backlogs[-1][0]).items())),
        rerouting=tuple(ReroutingRow(w, *audit["per_week"][i]) for i, w in enumerate(weeks)),
        rerouted_per_organisation=audit["per_organisation"],
        contact_load=contact_load(facts, week, contacts),
        rising_themes=rising(Counter(f.theme for f in group) for group in received),
        rising_terms=rising(Counter(t for f in group for t in f.terms) for group in received),
        unsure_groups=unsure_groups(received),
        min_confidence=min_confidence,
        action_points=action_points,
    )


def _by_week(facts: Iterable[Fact], weeks: tuple[Week, ...], when) -> list[list[Fact]]:
    """The facts per week of `weeks`, by the moment `when(fact)`; others are left out."""
    first = weeks[0].start
    groups: list[list[Fact]] = [[] for _ in weeks]
    for fact in facts:
        index = (when(fact).astimezone(LOCAL).date() - first).days // 7
        if 0 <= index < len(weeks):
            groups[index].append(fact)
    return groups


def volume_table(title: str, received: list[list[Fact]], key) -> VolumeTable:
    counts = [Counter(key(f) for f in group) for group in received]
    labels = set().union(*counts)
    rows = [VolumeRow(label, tuple(c[label] for c in counts)) for label in labels]
    rows.sort(key=lambda r: (-r.this_week, -sum(r.counts), r.label))
    return VolumeTable(title, tuple(rows))


def response_days(fact: Fact) -> float:
    return (fact.answered_at - fact.received_at).total_seconds() / 86400


def percentile_90(values: list[float]) -> float | None:
    """The 90th percentile, interpolated between the nearest values (as numpy's default)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def response_times(answered: list[list[Fact]]) -> tuple[ResponseRow, ...]:
    this, previous = answered[-1], answered[-2]
    organisations = sorted({f.organisation for f in this} | {f.organisation for f in previous})
    rows = [_response_row(org, [f for f in this if f.organisation == org],
                          [f for f in previous if f.organisation == org]) for org in organisations]
    if len(organisations) > 1:
        rows.append(_response_row("alle organisaties", this, previous))
    return tuple(rows)


def _response_row(organisation: str, this: list[Fact], previous: list[Fact]) -> ResponseRow:
    days = [response_days(f) for f in this]
    with_due = [f for f in this if f.due_on is not None]
    on_time = [f for f in with_due if f.answered_at.astimezone(LOCAL).date() <= f.due_on]
    return ResponseRow(
        organisation=organisation,
        answered=len(this),
        median_days=statistics.median(days) if days else None,
        p90_days=percentile_90(days),
        on_time=len(on_time) / len(with_due) if with_due else None,
        previous_median_days=statistics.median(response_days(f) for f in previous) if previous else None,
    )


def load_rerouting(engine: Engine, *, weeks: tuple[Week, ...]) -> dict:
    """Questions sent to review and reassigned per week (from the audit), and per organisation
    in the last week."""
    query = (
        select(AuditEntry.at, AuditEntry.action, AuditEntry.question_id, Question.organisation)
        .join(Question, Question.id == AuditEntry.question_id, isouter=True)
        .where(AuditEntry.action.in_((REVIEW_ACTION, REASSIGN_ACTION)),
               AuditEntry.at >= weeks[0].begins, AuditEntry.at < weeks[-1].ends)
    )
    with unit_of_work(engine) as session:
        rows = session.exec(query).all()
    seen: list[tuple[set, set]] = [(set(), set()) for _ in weeks]
    per_organisation: dict[str, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    first = weeks[0].start
    for at, action, question_id, organisation in rows:
        index = (at.astimezone(LOCAL).date() - first).days // 7
        slot = 0 if action == REVIEW_ACTION else 1
        seen[index][slot].add(question_id)
        if index == len(weeks) - 1:
            per_organisation[organisation or UNKNOWN][slot].add(question_id)
    return {
        "per_week": [(len(review), len(moved)) for review, moved in seen],
        "per_organisation": {org: (len(r), len(m)) for org, (r, m) in sorted(per_organisation.items())},
    }


def contact_load(facts: list[Fact], week: Week, contacts) -> tuple[LoadRow, ...]:
    """Per contact person: questions assigned and answered in the week, open and overdue at its end."""
    known = {c.email.lower(): c for c in contacts}
    counts: dict[str, Counter] = defaultdict(Counter)
    begins, ends = week.begins, week.ends
    last_day = ends.astimezone(LOCAL).date()
    for fact in facts:
        if not fact.assignee:
            continue
        count = counts[fact.assignee.lower()]
        if fact.routed_at and begins <= fact.routed_at < ends:
            count["assigned"] += 1
        if fact.answered_at and begins <= fact.answered_at < ends:
            count["answered"] += 1
        if fact.open_at(ends):
            count["open"] += 1
            count["overdue"] += fact.overdue_on(last_day)
    rows = []
    listed = {email for email, c in known.items() if c.role != "coordinator" and c.active}
    for email in sorted(listed | set(counts)):
        contact, count = known.get(email), counts.get(email, Counter())
        rows.append(LoadRow(
            name=contact.name if contact else email,
            organisation=contact.organisation if contact else UNKNOWN,
            region=(contact.region or "") if contact else "",
            capacity=contact.capacity if contact else None,
            assigned=count["assigned"], answered=count["answered"],
            open=count["open"], overdue=count["overdue"],
        ))
    rows.sort(key=lambda r: (r.organisation, r.region, r.name))
    return tuple(rows)


def rising(per_week: Iterable[Counter], *, limit: int = 10) -> tuple[Signal, ...]:
    """Labels whose count in the last week is at least MIN_SIGNAL and RISE times their mean
    over the earlier weeks (new ones included), biggest rise first."""
    *earlier, this = list(per_week)
    signals = []
    for label, count in this.items():
        mean = sum(c[label] for c in earlier) / len(earlier)
        if count >= MIN_SIGNAL and count >= RISE * mean and count - mean >= 2:
            signals.append(Signal(label, count, round(mean, 1)))
    signals.sort(key=lambda s: (-(s.this_week - s.earlier_mean), s.label))
    return tuple(signals[:limit])


def unsure_groups(received: list[list[Fact]], *, limit: int = 10) -> tuple[UnsureGroup, ...]:
    """Questions of the last week the classifier was unsure about (or sent to review), grouped
    by its best-guess theme and the asking organisation."""
    counts = [Counter((f.theme, f.asking) for f in group if f.unsure) for group in received]
    *earlier, this = counts
    groups = [
        UnsureGroup(theme, asking, n, round(sum(c[(theme, asking)] for c in earlier) / len(earlier), 1))
        for (theme, asking), n in this.items()
    ]
    groups.sort(key=lambda g: (-g.this_week, g.theme, g.asking_organisation))
    return tuple(groups[:limit])
