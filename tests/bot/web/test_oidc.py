"""Single sign-on by OpenID Connect, end to end in Chromium: the console's real Authlib client
against a small identity provider served here (discovery, authorize, token, JWKS; RS256 ID
tokens), as Entra ID or Keycloak would answer. The provider signs in one fixed person per
test at once (no form): what is tested is the console's side of the flow."""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import urlencode

import pytest
from joserfc import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from bot.settings import load_settings
from tests.servers import spare_port, wait_for_port

pytestmark = pytest.mark.server
CLIENT_ID = "bvhk-console"


class Provider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.claims: dict = {}
        self.codes: dict[str, dict] = {}
        self.tamper = False
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ])

    async def discovery(self, request: Request):
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
        })

    async def authorize(self, request: Request):
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code" and q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", status_code=302)

    async def token(self, request: Request):
        form = await request.form()
        grant = self.codes.pop(form["code"], None)
        if grant is None or not form.get("code_verifier") or form["redirect_uri"] != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "u-1", "iat": now, "exp": now + 300,
                  "nonce": "niet-de-nonce" if self.tamper else grant["nonce"], **self.claims}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})

    async def jwks(self, request: Request):
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


def _serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    assert wait_for_port(port)
    return server


@pytest.fixture(scope="module")
def sso(demo_site, monkeypatch_module):
    from bot.web.app import create_app

    folder, _ = demo_site
    provider_port, console_port = spare_port(), spare_port()
    provider = Provider(provider_port)
    config = folder / "config-oidc.toml"
    config.write_text((folder / "config.toml").read_text("utf-8") +
                      f'\n[web.oidc]\nissuer = "{provider.issuer}"\nclient_id = "{CLIENT_ID}"\n'
                      'client_secret_env = "BVHK_TEST_OIDC_SECRET"\norganisation_claim = "org"\n', "utf-8")
    monkeypatch_module.setenv("BVHK_TEST_OIDC_SECRET", "geheim")
    monkeypatch_module.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-oidc-test-0123456789")
    servers = [_serve(provider.app, provider_port), _serve(create_app(load_settings(config)), console_port)]
    yield provider, f"http://127.0.0.1:{console_port}"
    for server in servers:
        server.should_exit = True


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _sign_in(browser, url: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/login")
    page.click("text=Aanmelden met uw organisatieaccount")
    page.wait_for_load_state()
    return context, page


def test_a_coordinator_signs_in_through_the_provider(browser, sso):
    provider, url = sso
    provider.claims = {"preferred_username": "k.jansen", "email": "k.jansen@ind.example", "roles": ["coordinator"],
                       "org": "IND"}
    context, page = _sign_in(browser, url)
    page.wait_for_url(f"{url}/backlog")
    assert "k.jansen · coördinator · IND" in page.locator("header").inner_text()
    assert page.locator("table.questions tbody tr").count() > 0
    flow = [c for c in context.cookies() if c["name"] == "bvhk_aanmelden"]
    assert not flow  # the sign-in's own cookie is gone once it served
    session = next(c for c in context.cookies() if c["name"] == "bvhk_sessie")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    context.close()


def test_a_contact_person_gets_her_role_from_the_contacts_file(browser, sso):
    provider, url = sso
    provider.claims = {"email": "s.verbeek@ind.example"}  # no role claim
    context, page = _sign_in(browser, url)
    page.wait_for_url(f"{url}/")
    assert "contactpersoon" in page.locator("header").inner_text()
    assert page.goto(f"{url}/review").status == 403
    context.close()


def test_no_role_or_a_token_that_does_not_verify_signs_nobody_in(browser, sso):
    provider, url = sso
    provider.claims = {"email": "iemand@elders.example"}
    context, page = _sign_in(browser, url)
    assert "geen rol in deze console" in page.content()
    context.close()
    provider.claims, provider.tamper = {"email": "k@ind.example", "roles": "admin"}, True
    try:
        context, page = _sign_in(browser, url)
        assert "lukte niet" in page.content()
        page.goto(f"{url}/backlog")
        assert page.url == f"{url}/login"
        context.close()
    finally:
        provider.tamper = False
