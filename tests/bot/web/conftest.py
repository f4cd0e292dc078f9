"""The console on the demo's data, served by a real uvicorn on a spare port, and Debian's
chromium driven by Playwright (never Playwright's own browser download).

`site`: the demo run once, with one local account per role (and a DT&V coordinator), and
the console serving it. `browser`: chromium, or a skip (a failure under CI=true).
Screenshots go to test-output/web/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main
from bot.settings import Settings, load_settings
from tests.paths import ROOT
from tests.servers import spare_port, wait_for_port

SHOTS = ROOT / "test-output" / "web"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PASSWORD = "een-lang-testwachtwoord"
ACCOUNTS = {  # username -> users add options
    "coord-ind": ["--role", "coordinator", "--organisation", "IND"],
    "coord-dtv": ["--role", "coordinator", "--organisation", "DT&V"],
    "beheer": ["--role", "admin"],
    "sanne": ["--role", "contact", "--email", "s.verbeek@ind.example"],
    "skiv": ["--role", "reader"],
}


@dataclass
class Site:
    folder: Path
    settings: Settings
    url: str

    def cli(self, *args: str):
        return CliRunner().invoke(main, ["--config", str(self.folder / "config.toml"), *args],
                                  env={"BVHK_TEST_PASSWORD": PASSWORD})


@pytest.fixture(scope="session")
def demo_site(demo_run, tmp_path_factory) -> tuple[Path, Settings]:
    """A copy of the session's demo (the console's tests change it), with the accounts."""
    folder = tmp_path_factory.mktemp("console") / "demo"
    shutil.copytree(demo_run[0], folder)
    for username, options in ACCOUNTS.items():
        added = CliRunner().invoke(main, ["--config", str(folder / "config.toml"), "users", "add", username, *options,
                                          "--password-env", "BVHK_TEST_PASSWORD"], env={"BVHK_TEST_PASSWORD": PASSWORD})
        assert added.exit_code == 0, added.output
    return folder, load_settings(folder / "config.toml")


@pytest.fixture(scope="session")
def site(demo_site) -> Site:
    import uvicorn

    from bot.web.app import create_app

    folder, settings = demo_site
    os.environ.setdefault(settings.web.secret_env, "een-sleutel-alleen-voor-de-tests-0123456789")
    port = spare_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for_port(port), "the console did not start"
    yield Site(folder, settings, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(require_server_session):
    chromium = shutil.which("chromium")
    if chromium is None:
        require_server_session("chromium", "no chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def require_server_session():
    from tests.conftest import server_unavailable

    return server_unavailable


class Visit:
    """One signed-in person in their own browser context: pages, forms, screenshots, axe."""

    def __init__(self, browser, site: Site, username: str | None) -> None:
        self.site = site
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(120_000)  # CI machines are shared: a slow answer is not a failure
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        if username:
            self.sign_in(username)

    def sign_in(self, username: str, password: str = PASSWORD):
        self.page.goto(f"{self.site.url}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        return self.page

    def goto(self, path: str):
        return self.page.goto(f"{self.site.url}{path}")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> list[dict]:
        """The serious and critical accessibility violations axe-core finds on the page."""
        # Through the DevTools protocol, which the console's CSP does not govern (a <script> tag would be refused).
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text("utf-8") + "\n;0")
        result = self.page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
        return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, site):
    opened: list[Visit] = []

    def open_as(username: str | None) -> Visit:
        opened.append(Visit(browser, site, username))
        return opened[-1]

    yield open_as
    for v in opened:
        v.close()


def wait_until(check, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False

