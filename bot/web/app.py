"""The web console's application: its routes, the session and the headers every response
carries, and `serve` for `bvhk-triage web`.

    /login  /logout  /login/oidc  /auth/oidc          signing in and out (bot.web.signin)
    /  /backlog  /review  /questions/{kenmerk}        the pages (bot.web.pages)
    /rules                                            the routing rules: edit, replay, apply, undo (bot.web.routing)
    /contacts  /contacts.csv                          the contact persons and absences (bot.web.contacts)
    /models                                           the model versions (bot.web.models)
    /health  /health.json                             the service's health (bot.web.operations)
    /reports  /reports/{week}/rapport.html|.xlsx      the weekly report and the digest (bot.web.reports)
    /static/…                                         the style sheet and htmx (no build step)
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.settings import Settings
from bot.web import contacts, models, operations, pages, reports, routing, signin
from bot.web.http import State, page, signed_in
from storage.db import open_database

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "bvhk_sessie"
log = logging.getLogger("bvhk.web")

# No inline script or style anywhere: everything the pages run or style comes from /static.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the headers above to every response that does not set its own (the report shown in a
    frame sets a policy of its own: bot.web.reports), and `Cache-Control: no-store` to the pages
    (they show questions about children: no copy stays in a browser's or a proxy's cache)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in own]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BasePath:
    """Serves the console under [web] public_url's path behind a reverse proxy, whether the proxy
    passes the path on as it came (/triage/backlog) or strips the base path (/backlog). As ASGI
    has it, the path then holds the root path (Starlette's routing takes it off again), and
    links and cookies are made with it."""

    def __init__(self, app, base_path: str) -> None:
        self.app, self.base_path = app, base_path

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and self.base_path:
            path = scope["path"]
            if not (path == self.base_path or path.startswith(self.base_path + "/")):
                path = self.base_path + path
            scope = {**scope, "path": path, "raw_path": path.encode(), "root_path": self.base_path}
        await self.app(scope, receive, send)


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies, from [web] secret_env; without it a random one (each
    start of the console then signs everyone out, which `check` warns about)."""
    value = os.environ.get(settings.web.secret_env or "")
    if value:
        return value
    log.warning("%s is niet gezet: sessies gelden tot de console herstart", settings.web.secret_env)
    return secrets.token_urlsafe(48)


async def not_found(request: Request, exc: HTTPException):
    if exc.status_code != 404:
        return PlainTextResponse(exc.detail, status_code=exc.status_code)
    return page(request, "refused.html.j2", person=signed_in(request) if "session" in request.scope else None,
                status=404, why="Deze pagina bestaat niet.")


def create_app(settings: Settings, *, engine=None) -> Starlette:
    """The console over `settings`' database (or `engine`)."""
    state = State(settings=settings, engine=engine or open_database(settings.storage.url),
                  oauth=signin.oidc_client(settings))
    web = settings.web
    secret = session_secret(settings)
    routes = [
        Route("/", pages.home),
        Route("/login", signin.login, methods=["GET", "POST"]),
        Route("/logout", signin.logout, methods=["POST"]),
        Route("/login/oidc", signin.login_oidc),
        Route("/auth/oidc", signin.auth_oidc, name="auth_oidc"),
        Route("/backlog", pages.backlog),
        Route("/review", pages.review),
        Route("/review/{kenmerk}", pages.resolve_question, methods=["POST"]),
        Route("/questions/{kenmerk}", pages.question_page),
        Route("/questions/{kenmerk}/{action}", pages.question_action, methods=["POST"]),
        Route("/reports", reports.reports),
        Route("/reports/{week}/rapport.html", reports.report_document),
        Route("/reports/{week}/rapport.xlsx", reports.report_workbook_file),
        Route("/reports/digest/{number:int}.html", reports.digest_document),
        Route("/reports/agenda", reports.agenda_action, methods=["POST"]),
        Route("/reports/agenda/{number:int}", reports.agenda_action, methods=["POST"]),
        Route("/rules", routing.rules_page),
        Route("/rules/replay", routing.replay_candidate, methods=["POST"]),
        Route("/rules/apply", routing.apply_candidate, methods=["POST"]),
        Route("/rules/undo/{number:int}", routing.undo, methods=["POST"]),
        Route("/contacts", contacts.contacts),
        Route("/contacts.csv", contacts.export),
        Route("/contacts/absent", contacts.absent, methods=["POST"]),
        Route("/contacts/import", contacts.upload, methods=["POST"]),
        Route("/models", models.models),
        Route("/models/{action}", models.model_action, methods=["POST"]),
        Route("/health", operations.health_page),
        Route("/health/retry", operations.retry, methods=["POST"]),
        Route("/health.json", operations.health_json),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(BasePath, base_path=web.base_path),
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                   max_age=web.session_hours * 3600, path=(web.base_path or "") + "/", same_site="strict",
                   https_only=web.secure),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: not_found})
    app.state.console = state
    app.state.secret = secret  # also signs the cookie of a sign-in in progress (bot.web.signin)
    return app


def _server(settings: Settings, *, host: str | None, port: int | None, engine=None):
    """Uvicorn for the console: behind a proxy under its base path, with X-Forwarded-* honoured
    only from [web] trusted_proxies. The access log is off: it would write every query string;
    the console logs what it does without personal data."""
    import uvicorn

    web = settings.web
    return uvicorn.Server(uvicorn.Config(
        create_app(settings, engine=engine), host=host or web.host, port=port or web.port,
        proxy_headers=bool(web.trusted_proxies), forwarded_allow_ips=",".join(web.trusted_proxies) or None,
        access_log=False, log_level="warning", server_header=False))


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the console until stopped (`bvhk-triage web`)."""
    _server(settings, host=host, port=port).run()


def serve_in_thread(settings: Settings, engine=None):
    """The console beside the worker in one process (`run` with [web] in_run = true); set the
    returned server's `should_exit` to stop it."""
    server = _server(settings, host=None, port=None, engine=engine)
    threading.Thread(target=server.run, name="web-console", daemon=True).start()
    return server
