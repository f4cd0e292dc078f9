"""/rules in Chromium on a copy of the demo whose rules folder is its own (a git working
tree): an admin edits a rule (strafrecht to review), the replay names exactly the questions
that change, the change is applied with its history and a commit, the next poll routes by it,
and undo brings the rules back."""

from __future__ import annotations

import shutil
import subprocess
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.backlog.replay import load_candidate, replay
from bot.cli.commands import main
from bot.settings import load_settings
from rules import DEFAULT_FOLDER
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Question
from tests.bot.web.conftest import PASSWORD, Site, Visit
from tests.servers import spare_port, wait_for_port

pytestmark = pytest.mark.server
STRAFRECHT_TO_REVIEW = '\n[[rule]]\nname = "strafrecht-beoordelen"\ntheme = ["strafrecht"]\nreview = true\n'


@pytest.fixture(scope="module")
def own_rules(demo_run, tmp_path_factory, monkeypatch_module):
    import threading

    import uvicorn

    from bot.web.app import create_app

    original = demo_run[0]
    folder = tmp_path_factory.mktemp("rules-site") / "demo"
    shutil.copytree(original, folder)
    shutil.copytree(DEFAULT_FOLDER, folder / "rules")
    git = shutil.which("git")
    if git:
        for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "begin"]):
            subprocess.run([git, "-C", str(folder / "rules"), *args], check=True, capture_output=True)
    config = folder / "config.toml"
    config.write_text(config.read_text("utf-8").replace(str(DEFAULT_FOLDER), str(folder / "rules"))
                      .replace(str(original), str(folder)), "utf-8")
    added = CliRunner().invoke(main, ["--config", str(config), "users", "add", "beheer", "--role", "admin",
                                      "--password-env", "PW"], env={"PW": PASSWORD})
    assert added.exit_code == 0, added.output
    monkeypatch_module.setenv("BVHK_WEB_SECRET", "sleutel-voor-de-regeltest-0123456789")
    settings = load_settings(config)
    port = spare_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    assert wait_for_port(port)
    yield Site(folder, settings, f"http://127.0.0.1:{port}")
    server.should_exit = True


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_edit_replay_apply_poll_and_undo(browser, own_rules):
    site = own_rules
    routing = site.folder / "rules" / "routing.toml"
    before = routing.read_text("utf-8")
    v = Visit(browser, site, "beheer")
    try:
        v.goto("/rules")
        shown_data = v.page.locator("main").inner_text()  # the routing data read as tables
        assert "Kinderbeschermingsmaatregelen" in shown_data and "Den Bosch" in shown_data
        # a mistake first: the message names the file, the line and the key
        v.page.fill("#r-text", before + '\n[[rule]]\nname = "fout"\nthema = ["strafrecht"]\n')
        v.page.click("text=Controleren en naspelen")
        assert "routing.toml:" in v.page.locator("#fout").inner_text() and "thema" in v.page.locator("#fout").inner_text()
        assert routing.read_text("utf-8") == before

        v.page.fill("#r-text", before + STRAFRECHT_TO_REVIEW)
        v.page.fill("#r-since", "2026-01-01")
        v.page.click("text=Controleren en naspelen")
        v.page.wait_for_selector("table.changes")
        shown = set(v.page.locator("table.changes tbody td:first-child a").all_inner_texts())
        assert v.axe() == []
        v.shot("rules-replay")
        # exactly the questions the replay of the same candidate names from the command line's code
        candidate_dir = site.folder / "kandidaat"
        shutil.copytree(site.folder / "rules", candidate_dir, ignore=shutil.ignore_patterns(".git", ".history"))
        (candidate_dir / "routing.toml").write_text(before + STRAFRECHT_TO_REVIEW, "utf-8")
        engine = open_database(site.settings.storage.url)
        expected = replay(engine, since=None, current=load_candidate(None, None, settings=site.settings),
                          candidate=load_candidate(candidate_dir, None, settings=site.settings),
                          min_confidence=site.settings.classifier.min_confidence,
                          mailbox_organisation=site.settings.mailbox_organisations)
        assert shown and shown == {c["triage_id"] for c in expected["changes"]}
        # strafrecht goes to review; the others that change do so because the load of the people
        # who no longer get strafrecht questions changes who is next (fewest open, round robin)
        to_review = {c["triage_id"] for c in expected["changes"] if c["after"]["review"] and not c["before"]["review"]}
        assert to_review and {c["theme"] for c in expected["changes"] if c["triage_id"] in to_review} == {"strafrecht"}
        assert str(expected["to_review"]) in v.page.locator("main").inner_text()

        v.page.fill("#r-why", "strafrecht eerst laten beoordelen")
        v.page.click("text=Toepassen")
        v.page.wait_for_selector("p.ok")
        assert routing.read_text("utf-8") == before + STRAFRECHT_TO_REVIEW
        assert "Wijziging 1: routing.toml" in v.page.locator("main").inner_text()
        row = v.page.locator("tr", has_text="strafrecht-beoordelen").first.inner_text()
        assert "thema strafrecht" in row and "ter beoordeling" in row
        if shutil.which("git"):
            log = subprocess.run(["git", "-C", str(site.folder / "rules"), "log", "-1", "--format=%an|%s"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            assert log == "web:beheer|routing.toml: strafrecht eerst laten beoordelen"
        with unit_of_work(engine) as session:
            audit = session.exec(select(AuditEntry).where(AuditEntry.action == "rules:apply")).all()
        assert [(a.actor, a.detail["change"]) for a in audit] == [("web:beheer", 1)]

        # the next poll routes a strafrecht question by it
        mail = EmailMessage()
        mail["From"], mail["To"] = "advocaat@kantoor-noord.example", "bvhk@ind.example"
        mail["Subject"], mail["Message-ID"] = "Vraag over strafrecht en verblijf", "<strafrecht-regel@test.example>"
        mail["Date"] = "Mon, 30 Nov 2026 10:00:00 +0100"
        mail.set_content("Mijn cliënt van 16 is veroordeeld voor een strafbaar feit; de officier van justitie "
                         "vraagt naar de gevolgen van de strafzaak voor zijn verblijfsvergunning. Welke gevolgen "
                         "heeft de veroordeling voor de aanvraag?")
        (site.folder / "mail" / "ind" / "new" / "strafrecht-regel.eml").write_bytes(mail.as_bytes())
        polled = CliRunner().invoke(main, ["--config", str(site.folder / "config.toml"), "poll", "--json"])
        assert polled.exit_code == 0, polled.output
        with unit_of_work(engine) as session:
            question = session.exec(select(Question).where(
                Question.message_id == "<strafrecht-regel@test.example>")).one()
        assert question.theme == "strafrecht", question.theme
        assert question.status == "review" and "strafrecht-beoordelen" in question.rules_hit

        v.page.click("text=Terug naar de versie van vóór deze wijziging")
        v.page.wait_for_selector("p.ok")
        assert routing.read_text("utf-8") == before
        assert "Wijziging 2: routing.toml" in v.page.locator("main").inner_text()
    finally:
        v.close()
