"""/reports (part 2 of the console): the weekly SKIV report of any week in the page, with its
charts and the workbook to download, and the digest as a coordinator receives it.

The report and the digest are the documents that are mailed (inline style, as mail clients
need); the console shows them in a frame of their own, served with a policy of their own:
no script at all, inline style and data: images only, framed only by the console."""

from __future__ import annotations

import base64
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.reports import agenda
from bot.reports.digest import build_digests
from bot.reports.files import report_charts
from bot.reports.weekly import Week, build_report, last_complete_week, latest_week, parse_week
from bot.reports.workbook import report_workbook
from bot.web.access import Person
from bot.web.http import guarded, page, refused, state
from storage.db import unit_of_work

DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'"
WEEKS_SHOWN = 12
AGENDA_ROLES = ("reader", "admin")  # who raises signals and records the meeting's decisions


def _week(request: Request):
    console = state(request)
    text = request.query_params.get("week") or request.path_params.get("week")
    if text:
        return parse_week(text)
    return latest_week(console.engine) or last_complete_week(console.today())


@guarded("reports")
async def reports(request: Request, person: Person) -> Response:
    return _reports_page(request, person)


def _reports_page(request: Request, person: Person, *, message: str = "", error: str = "", status: int = 200):
    try:
        week = _week(request)
    except ValueError:
        return page(request, "reports.html.j2", person=person, week=None, weeks=[], digests=[], status=422,
                    error="Kies een week als JJJJ-Www, bijvoorbeeld 2026-W48.", message="", signals=[], points=[],
                    statuses=agenda.STATUSES, themes=[])
    console = state(request)
    newest = latest_week(console.engine) or week
    weeks = [Week(newest.start - timedelta(weeks=n)) for n in range(WEEKS_SHOWN)]
    signals, points = [], []
    if person.role in AGENDA_ROLES:
        signals = _signals(build_report(console.settings, console.engine, week=week, today=console.today()),
                           console.desk().ruleset)
        with unit_of_work(console.engine) as db:
            points = agenda.current_for_themes(db, None)
    ruleset = console.desk().ruleset
    return page(request, "reports.html.j2", person=person, week=week, weeks=weeks, error=error, message=message,
                status=status, digests=_digest_names(request, person), signals=signals, points=points,
                statuses=agenda.STATUSES, themes=[(k, ruleset.theme_name(k)) for k in ruleset.theme_keys()])


def _signals(report, ruleset) -> list[dict]:
    """The report's signals as agenda items to raise: title, signal line and theme key."""
    key_of = {ruleset.theme_name(k): k for k in ruleset.theme_keys()}
    week = report.week.iso
    found = [{"title": f"Thema stijgt: {s.label}", "theme": key_of.get(s.label, ""),
              "signal": f"thema stijgt: {s.label} ({week}: {s.this_week}, eerder {s.earlier_mean})"}
             for s in report.rising_themes]
    found += [{"title": f"Term komt vaker voor: {s.label}", "theme": "",
               "signal": f"term stijgt: {s.label} ({week}: {s.this_week}, eerder {s.earlier_mean})"}
              for s in report.rising_terms]
    found += [{"title": f"Twijfel over {g.theme} ({g.asking_organisation})", "theme": key_of.get(g.theme, ""),
               "signal": f"onzekere classificatie: {g.theme}, {g.asking_organisation} ({week}: {g.this_week})"}
              for g in report.unsure_groups]
    return found


@guarded("reports")
async def agenda_action(request: Request, person: Person) -> Response:
    """Raise a signal as an agenda item, or record what the meeting decided on one."""
    if person.role not in AGENDA_ROLES:
        return refused(request, person, "Agendapunten zijn voor de SKIV-leden en de beheerder.")
    form = await request.form()
    console = state(request)
    themes = console.desk().ruleset.theme_keys()
    try:
        with unit_of_work(console.engine) as db:
            if "number" in request.path_params:
                point = agenda.record_outcome(db, request.path_params["number"], status=str(form.get("status") or ""),
                                              decision=str(form.get("decision") or ""),
                                              owner=str(form.get("owner") or ""), actor=person.actor)
                said = f"agendapunt {point.id}: {point.status}"
            else:
                point = agenda.raise_item(db, title=str(form.get("title") or ""), theme=form.get("theme") or None,
                                          signal=str(form.get("signal") or ""), actor=person.actor, themes=themes)
                said = f"op de agenda gezet: {point.title}"
    except agenda.AgendaError as exc:
        return _reports_page(request, person, error=str(exc), status=422)
    return _reports_page(request, person, message=said)


def _digests(request: Request, person: Person):
    console = state(request)
    found = build_digests(console.settings, console.engine, include_empty=True)
    if person.role == "coordinator":
        found = [d for d in found if d.coordinator.organisation == person.organisation
                 and (not person.region or d.coordinator.region == person.region)]
    elif person.role != "admin":
        found = []
    return found


def _digest_names(request: Request, person: Person) -> list[tuple[int, str]]:
    return [(n, f"{d.coordinator.organisation}{' ' + d.coordinator.region if d.coordinator.region else ''}")
            for n, d in enumerate(_digests(request, person))]


def _report(request: Request):
    """The report of the week in the path, or None for a week that does not exist."""
    console = state(request)
    try:
        week = _week(request)
    except ValueError:
        return None
    return build_report(console.settings, console.engine, week=week, today=console.today())


@guarded("reports")
async def report_document(request: Request, person: Person) -> Response:
    report = _report(request)
    if report is None:
        return Response("onbekende week", status_code=404)
    images = {chart.name: "data:image/png;base64," + base64.b64encode(chart.data).decode()
              for chart in report_charts(report)}
    return _document(report.html(images))


@guarded("reports")
async def report_workbook_file(request: Request, person: Person) -> Response:
    report = _report(request)
    if report is None:
        return Response("onbekende week", status_code=404)
    return Response(report_workbook(report),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="rapport-{report.week.iso}.xlsx"'})


@guarded("reports")
async def digest_document(request: Request, person: Person) -> Response:
    found = _digests(request, person)
    number = request.path_params["number"]
    if not (person.role in ("coordinator", "admin") and number < len(found)):
        return Response("geen samenvatting", status_code=404)
    return _document(found[number].html())


def _document(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"content-security-policy": DOCUMENT_CSP, "x-frame-options": "SAMEORIGIN"})
