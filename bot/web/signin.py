"""Signing in and out: local accounts at /login (fields `username` and `password`), or OpenID
Connect (/login/oidc, back at /auth/oidc) where [web.oidc] names an issuer."""

from __future__ import annotations

import logging
import warnings

from itsdangerous import URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import rules
from bot.settings import Settings, secret
from bot.web.access import ROLES, Person
from bot.web.accounts import verify
from bot.web.http import base, csrf_ok, page, sign_in, signed_in, state
from storage.db import unit_of_work

log = logging.getLogger("bvhk.web")


async def login(request: Request) -> Response:
    if request.method == "GET":
        if signed_in(request):
            return RedirectResponse(f"{base(request)}/", status_code=303)
        expired = "u" not in request.session and request.query_params.get("verlopen") == "1"
        return _form(request, error="Uw sessie is verlopen; meld u opnieuw aan." if expired else "")
    if not await csrf_ok(request):
        return _form(request, error="Het formulier is verlopen. Probeer het nog eens.", status=403)
    form = await request.form()
    username, password = str(form.get("username") or "").strip()[:64], str(form.get("password") or "")
    client = request.client.host if request.client else "?"
    console = state(request)
    keys = (f"user:{username.lower()}", f"client:{client}")
    if console.throttle.blocked(*keys):
        return _form(request, error="Te veel mislukte pogingen. Wacht een kwartier en probeer het opnieuw.", status=429)
    with unit_of_work(console.engine) as db:
        person = verify(db, username=username, password=password)
    if person is None:
        console.throttle.failed(*keys)
        log.info("aanmelden mislukt")  # neither the name nor the address: no personal data in the log
        return _form(request, error="Gebruikersnaam of wachtwoord onjuist.", status=401)
    console.throttle.succeeded(*keys)
    sign_in(request, person)
    return RedirectResponse(f"{base(request)}/", status_code=303)


def _form(request: Request, *, error: str = "", status: int = 200) -> Response:
    oidc = bool(state(request).oauth)
    return page(request, "login.html.j2", person=None, error=error, oidc=oidc, status=status)


async def logout(request: Request) -> Response:
    if await csrf_ok(request):
        request.session.clear()
    return RedirectResponse(f"{base(request)}/login", status_code=303)


# -- OpenID Connect -----------------------------------------------------------------------
def oidc_client(settings: Settings):
    """The Authlib client for [web.oidc], or None when no issuer is configured."""
    oidc = settings.web.oidc
    if not oidc.issuer:
        return None
    with warnings.catch_warnings():
        import authlib.deprecate  # noqa: F401  (sets its notices to "always"; silenced just below)

        warnings.simplefilter("ignore", DeprecationWarning)  # Authlib's notice about its httpx module
        import authlib.integrations.httpx_client  # noqa: F401
        from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register("oidc", client_id=oidc.client_id,
                   client_secret=secret(oidc.client_secret_env, key="web.oidc.client_secret_env"),
                   server_metadata_url=oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})
    return oauth


FLOW_COOKIE = "bvhk_aanmelden"  # the state of one sign-in at the identity provider, for ten minutes
FLOW_SECONDS = 600


def _flow_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="oidc-flow")


async def login_oidc(request: Request) -> Response:
    """To the identity provider. The state, nonce and PKCE verifier go in a cookie of their own,
    SameSite=Lax and only for /auth/oidc: the provider's redirect back is a navigation from
    another site, on which the SameSite=Strict session cookie is not sent."""
    oauth = state(request).oauth
    if oauth is None:
        return RedirectResponse(f"{base(request)}/login", status_code=303)
    flow = await oauth.oidc.create_authorization_url(str(request.url_for("auth_oidc")))
    response = RedirectResponse(flow["url"], status_code=303)
    kept = {key: flow.get(key) for key in ("state", "nonce", "code_verifier")}
    response.set_cookie(FLOW_COOKIE, _flow_signer(request).dumps(kept), max_age=FLOW_SECONDS,
                        path=f"{base(request)}/auth/oidc", httponly=True, samesite="lax",
                        secure=state(request).settings.web.secure)
    return response


async def auth_oidc(request: Request) -> Response:
    """Back from the provider: the code exchanged for tokens, the ID token checked (signature,
    issuer, audience, nonce, expiry), the person signed in. A page then moves on to / itself, a
    navigation from this site, so that the new session cookie is sent with it."""
    console = state(request)
    if console.oauth is None:
        return RedirectResponse(f"{base(request)}/login", status_code=303)
    try:
        flow = _flow_signer(request).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_SECONDS)
        if request.query_params.get("error") or request.query_params.get("state") != flow["state"]:
            raise ValueError("state")
        token = await console.oauth.oidc.fetch_access_token(
            redirect_uri=str(request.url_for("auth_oidc")), code=request.query_params.get("code"),
            code_verifier=flow["code_verifier"])
        claims = dict(await console.oauth.oidc.parse_id_token(token, nonce=flow["nonce"]))
    except Exception as exc:  # a bad or old cookie, a refused code, a token that does not verify
        log.warning("aanmelden via OpenID Connect mislukt: %s", type(exc).__name__)
        return _form(request, error="Aanmelden via uw organisatie lukte niet. Probeer het opnieuw.", status=401)
    person = person_from_claims(claims, console.settings)
    if person is None:
        return _form(request, error="U bent aangemeld, maar heeft geen rol in deze console. "
                                    "Vraag de beheerder om een rol.", status=403)
    sign_in(request, person)
    response = page(request, "signed-in.html.j2", person=person)
    response.delete_cookie(FLOW_COOKIE, path=f"{base(request)}/auth/oidc")
    return response


def person_from_claims(claims: dict, settings: Settings) -> Person | None:
    """The person the identity provider vouches for: the role from its role claim, else (when
    allowed) from the contacts file by e-mail: a coordinator there is one here, an active contact
    person a contact. None: no role."""
    oidc = settings.web.oidc
    email = str(claims.get("email") or claims.get("preferred_username") or "").strip().lower()
    username = str(claims.get("preferred_username") or email or claims.get("sub") or "")
    given = claims.get(oidc.role_claim)
    roles = [given] if isinstance(given, str) else list(given or [])
    role = next((r for r in ROLES if r in roles), None)
    organisation = str(claims.get(oidc.organisation_claim) or "") if oidc.organisation_claim else ""
    region = ""
    if role is None and oidc.roles_from_contacts and email:
        try:
            ruleset = rules.load_ruleset(settings.routing.rules)
            contact = next((c for c in rules.load_contacts(settings.routing.contacts, ruleset)
                            if c.email == email and c.active), None)
        except (rules.RulesError, OSError):
            contact = None
        if contact is not None:
            role = "coordinator" if contact.role == "coordinator" else "contact"
            organisation, region = contact.organisation, contact.region if role == "coordinator" else ""
    if role is None or not username:
        return None
    return Person(username=username[:64], role=role, organisation=organisation, region=region, email=email, via="oidc")
