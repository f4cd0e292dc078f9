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

from bot.reports.digest import build_digests
from bot.reports.files import report_charts
from bot.reports.weekly import Week, build_report, last_complete_week, latest_week, parse_week
from bot.reports.workbook import report_workbook
from bot.web.access import Person
from bot.web.http import guarded, page, state

DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'"
WEEKS_SHOWN = 12


def _week(request: Request):
    console = state(request)
    text = request.query_params.get("week") or request.path_params.get("week")
    if text:
        return parse_week(text)
    return latest_week(console.engine) or last_complete_week(console.today())


@guarded("reports")
async def reports(request: Request, person: Person) -> Response:
    try:
        week = _week(request)
    except ValueError:
        return page(request, "reports.html.j2", person=person, week=None, weeks=[], digests=[], status=422,
                    error="Kies een week als JJJJ-Www, bijvoorbeeld 2026-W48.")
    newest = latest_week(state(request).engine) or week
    weeks = [Week(newest.start - timedelta(weeks=n)) for n in range(WEEKS_SHOWN)]
    return page(request, "reports.html.j2", person=person, week=week, weeks=weeks, error="",
                digests=_digest_names(request, person))


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
