"""The pages of part 1: home, backlog, review and a question's page, with the actions on a
question. Each handler reads through `storage.console` with the person's scope, acts through
`bot.backlog.actions` (the same actions as the command line, audited with the person as
actor) and sends what an action stored at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import rules
from bot.backlog.actions import Desk, assign, correct, mark_answered, resolve, send_to_review
from bot.errors import ActionError
from bot.outgoing.queue import send_now
from bot.reports import agenda
from bot.web.access import Person
from bot.web.http import guarded, page, refused, scope_of, state
from storage import console
from storage.db import unit_of_work
from storage.models import Question

STATUS_NAMES = {"routed": "doorgestuurd", "reassigned": "opnieuw toegewezen", "review": "ter beoordeling",
                "quarantine": "quarantaine", "answered": "beantwoord", "closed": "gesloten", "skipped": "overgeslagen"}
HISTORY = {  # audit action -> what the history says
    "triage:routed": "ontvangen en doorgestuurd", "triage:review": "ontvangen, ter beoordeling",
    "triage:quarantine": "ontvangen, in quarantaine", "triage:reassigned": "ontvangen en doorgestuurd",
    "question:route": "gerouteerd", "question:assign": "toegewezen", "question:reassign": "opnieuw toegewezen",
    "question:review": "terug naar beoordeling", "question:follow_up": "vervolgmail van de vrager",
    "question:reopen": "heropend door vervolgmail", "question:answered_by_hand": "beantwoord (met de hand)",
    "answered": "beantwoord", "correction": "gecorrigeerd", "quarantine:release": "opnieuw getrieerd",
    "quarantine:forward": "ongewijzigd doorgestuurd",
}
DELIVERY_NAMES = {"forward": "doorgestuurd aan", "copy": "kopie aan", "review": "ter beoordeling aan",
                  "reminder": "herinnering aan", "escalation": "escalatie aan", "follow_up": "vervolg aan",
                  "quarantine": "quarantainemelding aan"}
SHOWN_DETAIL = ("assignee", "rule", "theme_after", "organisation_after", "previous", "status", "via")


def person_key(email: str) -> str:
    """A contact person in a URL: a short hash, never the address (no personal data in URLs or logs)."""
    return hashlib.sha256(email.encode()).hexdigest()[:10]


# -- home and backlog ---------------------------------------------------------------------
@guarded("home")
async def home(request: Request, person: Person) -> Response:
    if person.role in ("coordinator", "admin", "reader"):  # a reader has the reports only
        where = "/reports" if person.role == "reader" else "/backlog"
        return RedirectResponse(f"{request.scope.get('root_path', '')}{where}", status_code=303)
    return _backlog_page(request, person, template="home.html.j2", points=_action_points(request, person))


def _action_points(request: Request, person: Person) -> list:
    """The SKIV's open action points of a contact person's themes (all themes: all of them)."""
    if person.role != "contact":
        return []
    console_state = state(request)
    mine = next((c for c in console_state.desk().contacts if c.email == person.email), None)
    with unit_of_work(console_state.engine) as db:
        return agenda.current_for_themes(db, list(mine.themes) if mine else None)


@guarded("backlog")
async def backlog(request: Request, person: Person) -> Response:
    return _backlog_page(request, person, template="backlog.html.j2")


def _backlog_page(request: Request, person: Person, *, template: str, points: list = ()) -> Response:
    console_state = state(request)
    web = console_state.settings.web
    scope = scope_of(request, person)
    if scope is None:
        return page(request, template, person=person, rows=[], total=0, counts={}, chosen={}, query="",
                    pages=1, current=1, sort="urgent", names={}, keys={}, statuses=STATUS_NAMES, today=None,
                    no_scope=True, points=points)
    params = request.query_params
    today = console_state.today()
    with unit_of_work(console_state.engine) as db:
        keys = {person_key(email): email for email in console.assignees(db, scope=scope)}
        chosen = {key: params.get(key, "") for key in console.FILTERS}
        filters = {key: value for key, value in chosen.items() if value}
        if "assignee" in filters:
            filters["assignee"] = keys.get(filters["assignee"], "-")
        overdue = params.get("overdue") == "1"
        sort = params.get("sort", "urgent") if params.get("sort") in console.SORTS else "urgent"
        current = max(1, int(params.get("page", "1"))) if params.get("page", "1").isdigit() else 1
        rows, total = console.backlog(db, scope=scope, filters=filters, today=today, sort=sort,
                                      descending=params.get("desc") == "1", offset=(current - 1) * web.page_size,
                                      limit=web.page_size, overdue=overdue)
        counts = console.counts(db, scope=scope, filters=filters, today=today, overdue=overdue)
        rows = [_row(q, today) for q in rows]
    names = _contact_names(console_state)
    query = urlencode({k: v for k, v in {**chosen, "overdue": "1" if overdue else "", "sort": sort}.items() if v})
    return page(request, template, person=person, rows=rows, total=total, counts=counts, chosen=chosen,
                overdue=overdue, query=query, pages=max(1, -(-total // web.page_size)), current=current, sort=sort,
                names=names, keys={email: key for key, email in keys.items()}, statuses=STATUS_NAMES, today=today,
                no_scope=False, points=points)


def _row(q: Question, today) -> dict:
    received = q.received_at.replace(tzinfo=q.received_at.tzinfo or timezone.utc) if q.received_at else None
    return {"kenmerk": q.triage_id, "theme": q.theme, "organisation": q.organisation,
            "asking_organisation": q.asking_organisation, "region": q.region, "assignee": q.assignee,
            "status": q.status, "due_on": q.due_on, "overdue": bool(q.due_on and q.due_on < today),
            "age": (datetime.now(timezone.utc) - received).days if received else None,
            "received": received, "reason": q.verdict_reason if q.status == "quarantine" else q.route_reason}


def _contact_names(console_state) -> dict[str, str]:
    try:
        desk = console_state.desk()
    except (rules.RulesError, OSError):
        return {}
    return {c.email: c.name for c in desk.contacts}


# -- review --------------------------------------------------------------------------------
@guarded("review")
async def review(request: Request, person: Person) -> Response:
    return _review_page(request, person)


def _review_page(request: Request, person: Person, *, message: str = "", error: str = "", status: int = 200):
    console_state = state(request)
    scope = scope_of(request, person)
    desk = console_state.desk()
    with unit_of_work(console_state.engine) as db:
        rows = [_row(q, console_state.today()) for q in console.waiting(db, scope=scope)] if scope else []
    return page(request, "review.html.j2", person=person, rows=rows, message=message, error=error, status=status,
                **_choices(desk, person))


def _choices(desk: Desk, person: Person) -> dict:
    """What a form may offer: the themes, organisations, regions and the persons the role may pick."""
    people = [c for c in desk.contacts if c.active and (person.role == "admin" or c.organisation == person.organisation)]
    return {"themes": [(key, desk.ruleset.theme_name(key)) for key in desk.ruleset.theme_keys()],
            "organisations": list(rules.ORGANISATIONS),
            "regions": sorted({r.name for r in desk.ruleset.regions
                               if person.role == "admin" or r.organisation == person.organisation}),
            "people": sorted(((c.email, f"{c.name} ({c.organisation}, {c.region or 'alle regio’s'})") for c in people),
                             key=lambda p: p[1])}


@guarded("review")
async def resolve_question(request: Request, person: Person) -> Response:
    form = await request.form()
    kenmerk = request.path_params["kenmerk"]
    console_state = state(request)
    desk = console_state.desk()
    try:
        with unit_of_work(console_state.engine) as db:
            question = console.visible(db, scope=scope_of(request, person), triage_id=kenmerk)
            if question is None:
                return refused(request, person, "Deze vraag valt niet binnen uw rol.")
            picked = _picked(form, desk, person)
            said = resolve(db, desk, question, actor=person.actor, **picked)
    except ActionError as exc:
        return _review_page(request, person, error=str(exc), status=422)
    sent = send_now(console_state.settings, console_state.engine)
    return _review_page(request, person, message=f"{said}; {sent}")


def _picked(form, desk: Desk, person: Person) -> dict:
    allowed = _choices(desk, person)
    picked = {key: (form.get(key) or None) for key in ("theme", "organisation", "region", "person")}
    if picked["person"] and picked["person"] not in {email for email, _ in allowed["people"]}:
        raise ActionError("deze persoon kunt u niet kiezen")
    return picked


# -- a question's page ---------------------------------------------------------------------
@guarded("question")
async def question_page(request: Request, person: Person) -> Response:
    return _question_page(request, person, request.path_params["kenmerk"])


def _question_page(request: Request, person: Person, kenmerk: str, *, message: str = "", error: str = "",
                   status: int = 200) -> Response:
    console_state = state(request)
    scope = scope_of(request, person)
    desk = console_state.desk()
    with unit_of_work(console_state.engine) as db:
        question = console.visible(db, scope=scope, triage_id=kenmerk) if scope else None
        if question is None:
            return refused(request, person, "Deze vraag bestaat niet of valt niet binnen uw rol.")
        events = _history(db, question)
        corrections = [(c.created_at, c.theme, c.organisation, c.region, c.by)
                       for c in console.corrections(db, question_id=question.id)]
        shown = {name: getattr(question, name) for name in Question.model_fields}
        row = _row(question, console_state.today())
    return page(request, "question.html.j2", person=person, q=shown, events=events, corrections=corrections,
                row=row, statuses=STATUS_NAMES,
                theme_name=desk.ruleset.theme_name(shown["theme"]) or "—", message=message, error=error,
                status=status, **_choices(desk, person))


def _history(db, question: Question) -> list[tuple[datetime, str, str, str]]:
    """(when, who, what, detail) from the audit and the deliveries, oldest first."""
    events = []
    for entry in console.history(db, question_id=question.id):
        detail = ", ".join(f"{key}: {entry.detail[key]}" for key in SHOWN_DETAIL
                           if isinstance(entry.detail, dict) and entry.detail.get(key) not in (None, "", []))
        events.append((entry.at, entry.actor, HISTORY.get(entry.action, entry.action), detail))
    for delivery in console.deliveries(db, question_id=question.id):
        what = DELIVERY_NAMES.get(delivery.purpose, delivery.purpose)
        state_name = {"sent": "verzonden", "pending": "wacht op verzending", "failed": "mislukt"}.get(delivery.status,
                                                                                                        delivery.status)
        events.append((delivery.sent_at or delivery.created_at, "bvhk-triage", f"{what} {delivery.recipient}", state_name))
    return sorted(events, key=lambda e: (e[0].replace(tzinfo=None) if e[0] else datetime.min))


@guarded("question")
async def question_action(request: Request, person: Person) -> Response:
    kenmerk, action = request.path_params["kenmerk"], request.path_params["action"]
    if action not in ("correct", "reassign", "answered", "review") or not person.may(action):
        return refused(request, person, "Deze handeling hoort niet bij uw rol.")
    form = await request.form()
    console_state = state(request)
    desk = console_state.desk()
    reason = str(form.get("reason") or "").strip()[:300]
    try:
        with unit_of_work(console_state.engine) as db:
            question = console.visible(db, scope=scope_of(request, person), triage_id=kenmerk)
            if question is None:
                return refused(request, person, "Deze vraag bestaat niet of valt niet binnen uw rol.")
            if action == "correct":
                said = correct(db, desk, question, theme=form.get("theme") or None,
                               organisation=form.get("organisation") or None, region=form.get("region") or None,
                               actor=person.actor, via="web")
            elif action == "reassign":
                target = _picked(form, desk, person)["person"]
                if not target:
                    raise ActionError("kies de persoon aan wie u de vraag toewijst")
                assign(db, desk, question, target, actor=person.actor, reason=reason)
                said = f"vraag {kenmerk} toegewezen aan {target}"
            elif action == "answered":
                mark_answered(db, question, actor=person.actor, reason=reason)
                said = f"vraag {kenmerk} gemarkeerd als beantwoord"
            else:
                send_to_review(db, desk, question, actor=person.actor, reason=reason)
                said = f"vraag {kenmerk} terug naar beoordeling"
    except ActionError as exc:
        return _question_page(request, person, kenmerk, error=str(exc), status=422)
    sent = send_now(console_state.settings, console_state.engine)
    if action == "reassign" and person.role == "contact":
        return RedirectResponse(f"{request.scope.get('root_path', '')}/", status_code=303)
    response = _question_page(request, person, kenmerk, message=f"{said}; {sent}")
    if response.status_code == 403:  # no longer in scope (a contact person handed it on)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/", status_code=303)
    return response
