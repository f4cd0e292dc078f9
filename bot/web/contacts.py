"""/contacts (part 2 of the console): the contact-person directory with its load and absences,
absences planned ahead, and the CSV out and in. Admins see and change everything; a
coordinator sees their organisation and plans its absences. The contacts file stays the one
source: an import validates it as `contacts import` does (file, line and key named) and
replaces it, and the next routing decision uses it."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

import rules
from bot.backlog.contacts import contact_rows, import_contacts, record_absence
from bot.settings import ConfigError
from bot.triage.absence import automatic_reply_absences
from bot.web.access import Person
from bot.web.http import guarded, page, refused, state
from storage import console
from storage.db import unit_of_work

MAX_UPLOAD = 1_000_000


def _mine(person: Person, organisation: str) -> bool:
    return person.role == "admin" or organisation == person.organisation


@guarded("contacts")
async def contacts(request: Request, person: Person) -> Response:
    return _contacts_page(request, person)


def _contacts_page(request: Request, person: Person, *, message: str = "", error: str = "", status: int = 200):
    console_state = state(request)
    settings = console_state.settings
    rows = [r for r in contact_rows(settings) if _mine(person, r["organisation"])]
    emails = {r["email"] for r in rows}
    with unit_of_work(console_state.engine) as db:
        planned = [(a.email, a.start, a.end) for a in console.absences_ahead(db, today=console_state.today())
                   if a.email in emails]
    replies = automatic_reply_absences(settings, console_state.desk().contacts, console_state.today()) & emails
    return page(request, "contacts.html.j2", person=person, rows=rows, planned=planned, replies=replies,
                message=message, error=error, status=status, reading_replies=settings.routing.read_automatic_replies)


@guarded("contacts")
async def absent(request: Request, person: Person) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip().lower()
    known = {c.email: c for c in state(request).desk().contacts}
    if email not in known or not _mine(person, known[email].organisation):
        return _contacts_page(request, person, error="Kies een contactpersoon van uw organisatie.", status=422)
    try:
        start, end = date.fromisoformat(str(form.get("start"))), date.fromisoformat(str(form.get("end")))
        said = record_absence(state(request).settings, email, start, end, actor=person.actor)
    except ValueError:
        return _contacts_page(request, person, error="Geef de eerste en de laatste dag als JJJJ-MM-DD.", status=422)
    except ConfigError as exc:
        return _contacts_page(request, person, error=str(exc), status=422)
    return _contacts_page(request, person, message=said)


@guarded("contacts")
async def export(request: Request, person: Person) -> Response:
    """The contacts file as it is (admin), or its rows of the coordinator's organisation."""
    source = Path(state(request).settings.routing.contacts)
    text = source.read_text("utf-8-sig")
    if person.role != "admin":
        lines = list(csv.DictReader(io.StringIO(text)))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(lines[0]) if lines else ["name", "email"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(line for line in lines if line.get("organisation") == person.organisation)
        text = out.getvalue()
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="contacts.csv"'})


@guarded("contacts")
async def upload(request: Request, person: Person) -> Response:
    if person.role != "admin":
        return refused(request, person, "Alleen een beheerder vervangt de hele contactpersonenlijst.")
    form = await request.form()
    sent = form.get("file")
    data = await sent.read(MAX_UPLOAD + 1) if hasattr(sent, "read") else b""
    if not data or len(data) > MAX_UPLOAD:
        return _contacts_page(request, person, error="Kies een CSV-bestand (hoogstens 1 MB).", status=422)
    settings = state(request).settings
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"  # named so, messages name the line and the column
        path.write_bytes(data)
        try:
            said = import_contacts(settings, path, actor=person.actor)
        except (rules.RulesError, ConfigError) as exc:
            return _contacts_page(request, person, error=f"Niet geïmporteerd: {str(exc).replace(folder + '/', '')}",
                                  status=422)
    return _contacts_page(request, person, message=said)
