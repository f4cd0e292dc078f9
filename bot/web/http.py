"""What every page of the console shares: the console's state, who is signed in (and whether
their session still holds), the guard that refuses a page outside a role, the CSRF token,
and rendering with the product's one Jinja2 environment.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.backlog.actions import Desk
from bot.render import render
from bot.settings import Settings
from bot.web.access import ROLE_NAMES, Person, scope
from bot.web.accounts import Throttle, person_of
from storage import console, repo
from storage.console import Scope
from storage.db import unit_of_work

LOCAL = ZoneInfo("Europe/Amsterdam")
log = logging.getLogger("bvhk.web")


@dataclass
class State:
    """The console's settings and database, shared by every request."""

    settings: Settings
    engine: Engine
    throttle: Throttle = field(default_factory=Throttle)
    oauth: object | None = None  # the OpenID Connect client, when [web.oidc] is configured
    _desk: tuple[tuple, Desk] | None = field(default=None, repr=False)

    def today(self) -> date:
        return datetime.now(LOCAL).date()

    def desk(self) -> Desk:
        """The rules and contact persons, read again when one of their files changed (an admin's
        edit is used by the next page, as by the worker's next routing decision)."""
        routing = self.settings.routing
        files = [routing.contacts, *sorted(Path(routing.rules).glob("*.toml"))]
        stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())
        if self._desk is None or self._desk[0] != stamp:
            self._desk = (stamp, Desk.load(self.settings))
        return self._desk[1]


def state(request: Request) -> State:
    return request.app.state.console


def base(request: Request) -> str:
    """The path the console is served under (behind a proxy: its base path), without a slash at the end."""
    return request.scope.get("root_path", "").rstrip("/")


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def csrf_ok(request: Request) -> bool:
    """A POST carries the session's token, in the form or (htmx) in the X-CSRF-Token header."""
    expected = request.session.get("csrf")
    if not expected:
        return False
    given = request.headers.get("x-csrf-token")
    if given is None:
        given = (await request.form()).get("csrf")
    return isinstance(given, str) and secrets.compare_digest(given, expected)


def sign_in(request: Request, person: Person) -> None:
    """A new session for `person` (a new CSRF token too: nothing from before sign-in carries over)."""
    request.session.clear()
    now = int(time.time())
    request.session.update(u=person.username, r=person.role, o=person.organisation, g=person.region,
                           e=person.email, v=person.via, t0=now, t=now, csrf=secrets.token_urlsafe(32))
    with unit_of_work(state(request).engine) as db:  # who opened the console, and as what
        repo.audit(db, action="web:sign_in", actor=person.actor, role=person.role, via=person.via)


def signed_in(request: Request) -> Person | None:
    """Who the session belongs to, while it holds: not idle too long, not too old, and (a local
    account) the account still there, with the role it has now."""
    session = request.session
    if "u" not in session:
        return None
    web = state(request).settings.web
    now = int(time.time())
    if now - session.get("t", 0) > web.session_minutes * 60 or now - session.get("t0", 0) > web.session_hours * 3600:
        session.clear()
        return None
    if session.get("v") == "lokaal":
        with unit_of_work(state(request).engine) as db:
            account = console.user(db, username=session["u"])
            person = person_of(account) if account else None
        if person is None:
            session.clear()
            return None
    else:
        person = Person(username=session["u"], role=session["r"], organisation=session.get("o", ""),
                        region=session.get("g", ""), email=session.get("e", ""), via=session.get("v", "oidc"))
    if now - session.get("t", 0) > 60:  # the cookie is written again at most once a minute
        session["t"] = now
    return person


def scope_of(request: Request, person: Person) -> Scope | None:
    return scope(person, state(request).settings.mailbox_organisations)


def page(request: Request, template: str, *, person: Person | None, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("active", template.split(".")[0])
    html = render(f"web/{template}", request=request, base=base(request), person=person, role_names=ROLE_NAMES,
                  csrf=csrf_token(request), **context)
    return HTMLResponse(html, status_code=status)


def refused(request: Request, person: Person | None, why: str = "") -> HTMLResponse:
    return page(request, "refused.html.j2", person=person, status=403,
                why=why or "Deze pagina hoort niet bij uw rol.")


def guarded(page_name: str):
    """A page handler for the roles `access.PAGES` gives `page_name`: without a session a
    redirect to /login; outside the role 403; a POST without the session's CSRF token 403."""

    def decorate(handler):
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            person = signed_in(request)
            if person is None:
                return RedirectResponse(f"{base(request)}/login", status_code=303)
            if not person.may_open(page_name):
                return refused(request, person)
            if request.method == "POST" and not await csrf_ok(request):
                return refused(request, person, "Het formulier is verlopen of komt niet van deze site. "
                                                "Laad de pagina opnieuw en probeer het nog eens.")
            return await handler(request, person)

        return endpoint

    return decorate
