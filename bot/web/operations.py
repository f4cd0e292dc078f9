"""The pages of part 2 that watch the service: /health (admin; coordinators read it) and
/health.json for the organisation's monitoring."""

from __future__ import annotations

import os
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.outgoing.queue import send_now
from bot.service.health import health, retry_now
from bot.web.access import Person
from bot.web.http import base, guarded, page, refused, signed_in, state


def push_state(state: str) -> str:
    """A push watcher's state (`bot.service.push.Watcher.state`) in Dutch."""
    kind, _, why = state.partition(": ")
    return {"waiting": "verbonden, wacht op nieuwe mail", "starting": "verbindt",
            "retrying": f"onderbroken ({why}); wordt opnieuw geprobeerd, de poll gaat door",
            "unavailable": f"niet beschikbaar ({why}); alleen de poll", "stopped": "gestopt",
            }.get(kind, "geen (alleen de poll)")


@guarded("health")
async def health_page(request: Request, person: Person) -> Response:
    return _health_page(request, person)


def _health_page(request: Request, person: Person, *, message: str = "") -> Response:
    console = state(request)
    return page(request, "health.html.j2", person=person, h=health(console.settings, console.engine),
                push_state=push_state,
                message=message)


@guarded("health")
async def retry(request: Request, person: Person) -> Response:
    if person.role != "admin":
        return refused(request, person, "Alleen een beheerder kan de wachtrij opnieuw laten versturen.")
    console = state(request)
    count = retry_now(console.engine, actor=person.actor)
    return _health_page(request, person, message=f"{count} bericht(en) opnieuw aangeboden; "
                                                 f"{send_now(console.settings, console.engine)}")


async def health_json(request: Request) -> Response:
    """The same figures as JSON, for a session that may see /health or for monitoring with the
    bearer token of [web] health_token_env; status 503 when something needs a person."""
    console = state(request)
    token = os.environ.get(console.settings.web.health_token_env or "")
    given = request.headers.get("authorization", "")
    by_token = bool(token) and secrets.compare_digest(given.encode(), f"Bearer {token}".encode())
    if not by_token:
        person = signed_in(request)
        if person is None:
            return JSONResponse({"error": "aanmelden nodig", "login": f"{base(request)}/login"}, status_code=401)
        if not person.may_open("health"):
            return JSONResponse({"error": "hoort niet bij uw rol"}, status_code=403)
    figures = health(console.settings, console.engine)
    return JSONResponse(figures, status_code=200 if figures["ok"] else 503)
