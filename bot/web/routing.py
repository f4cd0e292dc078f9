"""/rules (admin, part 2 of the console): the routing data as it is, a candidate edited in the
browser, checked as `rules check` checks it, replayed over past questions before it is applied,
applied with its history kept, and undone to any earlier version. Audited with the person."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import rules
from bot.backlog.replay import replay
from bot.web.access import Person
from bot.web.http import guarded, page, state
from rules import editing
from rules.model import COORDINATOR, Rule
from storage import repo
from storage.db import unit_of_work
from storage.models import Question
from sqlmodel import select

REPLAY_DAYS = 90  # the default period replayed


@guarded("rules")
async def rules_page(request: Request, person: Person) -> Response:
    name = request.query_params.get("file", "routing.toml")
    return _rules_page(request, person, name=name if name in editing.EDITABLE else "routing.toml")


def _rules_page(request: Request, person: Person, *, name: str, text: str | None = None, message: str = "",
                error: str = "", outcome: dict | None = None, since: str = "", status: int = 200) -> Response:
    console = state(request)
    folder = Path(console.settings.routing.rules)
    ruleset = console.desk().ruleset
    current = (folder / name).read_text("utf-8") if (folder / name).exists() else ""
    return page(request, "rules.html.j2", person=person, name=name, files=editing.EDITABLE,
                text=current if text is None else text, message=message, error=error, outcome=outcome,
                since=since or (console.today() - timedelta(days=REPLAY_DAYS)).isoformat(), status=status,
                ruleset=ruleset, when=when, then=then, editable=editing.editable(folder), changes=editing.history(folder)[:20])


_CONDITIONS = (("theme", "thema"), ("organisation", "organisatie"), ("asking_organisation", "vragende organisatie"),
               ("region", "regio"), ("sender", "afzender"), ("mailbox", "mailbox"), ("words", "woorden"))


def when(rule: Rule) -> str:
    """A rule's conditions in Dutch, as the table on /rules reads them."""
    parts = [f"{label} {' of '.join(getattr(rule, key))}" for key, label in _CONDITIONS if getattr(rule, key)]
    if rule.min_confidence is not None:
        parts.append(f"zekerheid ten minste {rule.min_confidence:.0%}")
    if rule.max_confidence is not None:
        parts.append(f"zekerheid ten hoogste {rule.max_confidence:.0%}")
    return "; ".join(parts) or "altijd"


def then(rule: Rule) -> str:
    """A rule's actions in Dutch."""
    parts = []
    if rule.review:
        parts.append("ter beoordeling")
    if rule.assign:
        parts.append("naar de coördinator" if rule.assign == COORDINATOR else f"naar {rule.assign}")
    if rule.assign_region:
        parts.append(f"naar regio {rule.assign_region}")
    if rule.copy_to:
        parts.append(f"kopie aan {', '.join(rule.copy_to)}")
    if rule.priority:
        parts.append(f"prioriteit {rule.priority}")
    if rule.due_days is not None:
        parts.append(f"termijn {rule.due_days} werkdagen")
    if rule.stop:
        parts.append("daarna geen regels meer")
    return "; ".join(parts) or "—"


async def _candidate(request: Request):
    form = await request.form()
    name = str(form.get("file") or "routing.toml")
    return form, (name if name in editing.EDITABLE else "routing.toml"), str(form.get("text") or "").replace("\r\n", "\n")


@guarded("rules")
async def replay_candidate(request: Request, person: Person) -> Response:
    """Check the candidate; if it holds, replay it over the period against the rules in force."""
    form, name, text = await _candidate(request)
    console = state(request)
    since_text = str(form.get("since") or "")
    try:
        since = date.fromisoformat(since_text) if since_text else None
        editing.check(console.settings.routing.rules, name, text, contacts=console.settings.routing.contacts)
    except ValueError:
        return _rules_page(request, person, name=name, text=text, since=since_text, status=422,
                           error="Geef de begindatum van de periode als JJJJ-MM-DD.")
    except rules.RulesError as exc:
        return _rules_page(request, person, name=name, text=text, since=since_text, error=str(exc), status=422)
    outcome = await run_in_threadpool(_replay, console, name, text, since)
    return _rules_page(request, person, name=name, text=text, since=since_text, outcome=outcome,
                       message=f"De kandidaat is geldig. Naspelen over {outcome['questions']} vragen: "
                               f"{outcome['changed']} zouden anders lopen.")


def _replay(console, name: str, text: str, since: date | None) -> dict:
    settings = console.settings
    desk = console.desk()
    with tempfile.TemporaryDirectory() as scratch:
        folder = editing.candidate_folder(settings.routing.rules, name, text, Path(scratch))
        candidate = rules.load_ruleset(folder)
        outcome = replay(console.engine, since=since, current=(desk.ruleset, list(desk.contacts)),
                         candidate=(candidate, rules.load_contacts(settings.routing.contacts, candidate)),
                         min_confidence=settings.classifier.min_confidence,
                         mailbox_organisation=settings.mailbox_organisations)
    return outcome | _totals(console, outcome)


def _totals(console, outcome: dict) -> dict:
    """Per person, organisation and region: questions gained and lost; and each affected
    person's open questions now and after the change, against their capacity."""
    people = {c.email: c for c in console.desk().contacts}
    gained, lost = Counter(), Counter()
    for change in outcome["changes"]:
        before, after = change["before"]["assignee"] or "ter beoordeling", change["after"]["assignee"] or "ter beoordeling"
        if before != after:
            lost[before] += 1
            gained[after] += 1
    changed_ids = [c["id"] for c in outcome["changes"]]
    with unit_of_work(console.engine) as db:
        load = repo.open_counts(db)
        open_ids = set(db.exec(select(Question.id).where(
            Question.id.in_(changed_ids), Question.status.in_(("routed", "reassigned", "review"))))) if changed_ids else set()
    delta = Counter()
    for change in outcome["changes"]:
        if change["id"] in open_ids:
            delta[change["before"]["assignee"]] -= 1
            delta[change["after"]["assignee"]] += 1

    def group(key) -> list[tuple[str, int, int]]:
        plus, minus = Counter(), Counter()
        for who, n in gained.items():
            if who in people:
                plus[key(who)] += n
        for who, n in lost.items():
            if who in people:
                minus[key(who)] += n
        return sorted(((k, plus[k], minus[k]) for k in set(plus) | set(minus)), key=lambda r: -(r[1] + r[2]))

    people_rows = [(who, gained[who], lost[who], load.get(who, 0) if who in people else None,
                    load.get(who, 0) + delta[who] if who in people else None,
                    people[who].capacity if who in people else None) for who in set(gained) | set(lost)]
    return {
        "per_person": sorted(people_rows, key=lambda r: -(r[1] + r[2])),
        "per_organisation": group(lambda who: people[who].organisation),
        "per_region": group(lambda who: people[who].region or "alle regio's"),
    }


@guarded("rules")
async def apply_candidate(request: Request, person: Person) -> Response:
    form, name, text = await _candidate(request)
    console = state(request)
    why = str(form.get("why") or "")
    try:
        change = editing.apply(console.settings.routing.rules, name, text, who=person.actor, why=why,
                               contacts=console.settings.routing.contacts)
    except rules.RulesError as exc:
        return _rules_page(request, person, name=name, text=text, error=str(exc), status=422)
    _audit(console, person, change)
    return _rules_page(request, person, name=name, message=f"Wijziging {change.number} toegepast op {name}; "
                                                           "de worker gebruikt haar vanaf zijn volgende poll.")


@guarded("rules")
async def undo(request: Request, person: Person) -> Response:
    console = state(request)
    number = request.path_params["number"]
    try:
        change = editing.restore(console.settings.routing.rules, number, who=person.actor,
                                 contacts=console.settings.routing.contacts)
    except rules.RulesError as exc:
        return _rules_page(request, person, name="routing.toml", error=str(exc), status=422)
    _audit(console, person, change)
    return _rules_page(request, person, name=change.file,
                       message=f"Wijziging {number} teruggedraaid (als wijziging {change.number}).")


def _audit(console, person: Person, change: editing.Change) -> None:
    with unit_of_work(console.engine) as db:
        repo.audit(db, action="rules:apply", actor=person.actor, file=change.file, change=change.number,
                   why=change.why)
