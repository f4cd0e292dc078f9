"""The console in real Chromium on the demo's data: what each role sees and may do, the three
flows of the issue (a coordinator reassigns, a reviewer resolves, a contact person corrects),
the headers and cookie, and axe-core on every page."""

from __future__ import annotations

import email
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, Correction, Delivery, Question
from tests.bot.web.conftest import PASSWORD, wait_until

pytestmark = pytest.mark.server


def questions(site, **where) -> list[Question]:
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        query = select(Question)
        for key, value in where.items():
            column = getattr(Question, key)
            query = query.where(column.in_(value) if isinstance(value, tuple) else column == value)
        return list(session.exec(query.order_by(Question.id)))


def outbox_for(site, recipient: str) -> list[email.message.Message]:
    folder = Path(site.settings.delivery.path) / recipient / "new"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*"))] if folder.exists() else []


def forwards_of(site, kenmerk: str, recipient: str) -> list[email.message.Message]:
    return [m for m in outbox_for(site, recipient) if m["X-BvhK-Triage"] == kenmerk]


# -- sign-in, session and headers -----------------------------------------------------------
def test_without_a_session_a_page_redirects_to_login(visit, site):
    v = visit(None)
    response = v.goto("/backlog")
    assert v.page.url == f"{site.url}/login"
    assert response.status == 200 and v.page.locator("#username").count() == 1
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite_strict(visit, site):
    v = visit("coord-ind")
    cookie = next(c for c in v.context.cookies() if c["name"] == "bvhk_sessie")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        signed = session.exec(select(AuditEntry).where(AuditEntry.action == "web:sign_in",
                                                       AuditEntry.actor == "web:coord-ind")).all()
    assert signed and signed[-1].detail["role"] == "coordinator"
    assert not v.console, v.console  # no CSP violation, no script error


def test_a_wrong_password_is_refused_in_dutch(visit, site):
    v = visit(None)
    v.sign_in("coord-ind", "niet-het-wachtwoord")
    assert v.page.url == f"{site.url}/login"
    assert "Gebruikersnaam of wachtwoord onjuist" in v.page.content()


def test_signing_out_ends_the_session(visit, site):
    v = visit("beheer")
    v.page.click("text=Afmelden")
    v.page.wait_for_url(f"{site.url}/login")
    v.goto("/backlog")
    assert v.page.url == f"{site.url}/login"


# -- what each role sees --------------------------------------------------------------------
def test_an_ind_coordinator_sees_open_ind_questions_and_no_other(visit, site):
    v = visit("coord-ind")
    v.goto("/backlog")
    shown = v.page.locator("table.questions tbody tr td:first-child a").all_inner_texts()
    ind = {q.triage_id for q in questions(site, organisation="IND", status=("routed", "reassigned", "review"))}
    others = {q.triage_id for q in questions(site) if q.organisation != "IND"}
    assert shown and set(shown) <= ind and not set(shown) & others
    assert len(shown) == min(len(ind), site.settings.web.page_size)
    v.shot("backlog-coordinator-ind")
    other = next(iter(others))
    assert v.goto(f"/questions/{other}").status == 403


def test_a_contact_person_sees_her_own_questions_only(visit, site):
    v = visit("sanne")
    assert v.page.url == f"{site.url}/"
    shown = set(v.page.locator("table.questions tbody tr td:first-child a").all_inner_texts())
    own = {q.triage_id for q in questions(site, assignee="s.verbeek@ind.example", status=("routed", "reassigned"))}
    assert shown == own
    v.shot("home-contact")


ROUTES = ["/", "/backlog", "/review", "/questions/{ind}", "/questions/{dtv}", "/questions/{own}", "/health",
          "/reports", "/reports/{week}/rapport.html", "/models", "/contacts", "/rules"]
EXPECTED = {  # role -> status per route above (a redirect to /login is "login")
    None: ["login"] * 12,
    "skiv": [200, 403, 403, 403, 403, 403, 403, 200, 200, 403, 403, 403],
    "sanne": [200, 200, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403],
    "coord-ind": [200, 200, 200, 200, 403, 200, 200, 200, 200, 403, 200, 403],
    "coord-dtv": [200, 200, 200, 403, 200, 403, 200, 200, 200, 403, 200, 403],
    "beheer": [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
}
POSTS = ["/review/{ind}", "/questions/{ind}/correct", "/questions/{ind}/reassign", "/questions/{dtv}/answered",
         "/health/retry", "/models/rollback", "/contacts/import", "/rules/apply"]
ALLOWED_POSTS = {  # role -> the POST routes above it may use (on questions in scope)
    "skiv": set(), "sanne": set(), "coord-dtv": {"/questions/{dtv}/answered"},
}


def _kenmerken(site) -> dict[str, str]:
    open_ = ("routed", "reassigned")
    own = questions(site, assignee="s.verbeek@ind.example", status=open_)
    ind = [q for q in questions(site, organisation="IND", status=open_) if q.assignee != "s.verbeek@ind.example"]
    dtv = questions(site, organisation="DT&V", status=open_)
    return {"ind": ind[-1].triage_id, "dtv": dtv[-1].triage_id, "own": own[-1].triage_id, "week": "2026-W48"}


@pytest.mark.parametrize("username", list(EXPECTED))
def test_every_role_on_every_route(visit, site, username):
    """The role x route matrix: pages by GET in the browser; actions by POST with the session's
    own CSRF token, so that only the role can be what refuses them."""
    v = visit(username)
    refs = _kenmerken(site)
    for route, expected in zip(ROUTES, EXPECTED[username]):
        response = v.goto(route.format(**refs))
        got = "login" if v.page.url.endswith("/login") and route != "/login" else response.status
        assert got == expected, (username, route, got)
    if username in ALLOWED_POSTS:
        v.goto("/")
        token = v.page.locator("input[name=csrf]").first.get_attribute("value")
        for route in POSTS:
            if route in ALLOWED_POSTS[username]:
                continue
            answer = v.context.request.post(f"{site.url}{route.format(**refs)}", form={"csrf": token, "reason": "x"},
                                            max_redirects=0)
            assert answer.status == 403, (username, route, answer.status)


def test_a_post_without_the_csrf_token_is_refused(visit, site):
    v = visit("beheer")
    refs = _kenmerken(site)
    answer = v.context.request.post(f"{site.url}/questions/{refs['ind']}/answered", form={"reason": "telefonisch"},
                                    max_redirects=0)
    assert answer.status == 403
    assert questions(site, triage_id=refs["ind"])[0].status in ("routed", "reassigned")


# -- the three flows -------------------------------------------------------------------------
def test_a_coordinator_filters_the_backlog_and_reassigns_a_question(visit, site):
    v = visit("coord-ind")
    v.goto("/backlog")
    v.page.select_option("#f-assignee", label=v.page.locator("#f-assignee option").nth(1).inner_text())
    chosen = v.page.locator("#f-assignee option:checked").inner_text().rsplit(" (", 1)[0]
    # The change alone filters (htmx swaps the list and puts the filter in the address).
    v.page.wait_for_url("**/backlog?*assignee=*")
    column = v.page.locator("table.questions tbody tr td:nth-child(6)")
    assert wait_until(lambda: set(column.all_inner_texts()) == {chosen}), column.all_inner_texts()
    rows = v.page.locator("table.questions tbody tr")
    kenmerk = rows.first.locator("td a").inner_text()
    before = questions(site, triage_id=kenmerk)[0]
    v.page.click(f"text={kenmerk}")
    v.page.wait_for_url(f"{site.url}/questions/{kenmerk}")
    options = v.page.locator("#a-person option").all()
    target = next(o.get_attribute("value") for o in options[1:] if o.get_attribute("value") != before.assignee)
    v.page.select_option("#a-person", target)
    v.page.fill("#a-reason", "kent de zaak")
    v.page.click("text=Toewijzen en doorsturen")
    v.page.wait_for_selector("p.ok")
    v.shot("question-reassigned")
    after = questions(site, triage_id=kenmerk)[0]
    assert after.assignee == target and after.status == "reassigned"
    assert len(forwards_of(site, kenmerk, target)) == 1  # the forward reached the new assignee's outbox
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.question_id == after.id,
                                                      AuditEntry.action == "question:assign")).all()
    assert [a.actor for a in audit] == ["web:coord-ind"]


def test_a_reviewer_resolves_a_question_in_review_once(visit, site):
    coordinator = visit("coord-dtv")
    refs = _kenmerken(site)
    kenmerk = refs["dtv"]
    previous = questions(site, triage_id=kenmerk)[0].assignee
    coordinator.goto(f"/questions/{kenmerk}")
    coordinator.page.fill("#r-reason", "thema klopt niet")
    coordinator.page.click("text=Terugzetten")
    coordinator.page.wait_for_selector("p.ok")
    assert questions(site, triage_id=kenmerk)[0].status == "review"

    coordinator.goto("/review")
    section = coordinator.page.locator(f"section:has(h2#k-{kenmerk})")
    section.locator("select[name=theme]").select_option("gegevensdeling")
    person = next(value for value in (o.get_attribute("value") for o in section.locator("select[name=person] option").all())
                  if value and value != previous)
    section.locator("select[name=person]").select_option(person)
    mails_before = len(forwards_of(site, kenmerk, person))
    coordinator.shot("review-before")
    section.locator("button").click()
    coordinator.page.wait_for_selector("p.ok")
    coordinator.shot("review-resolved")
    assert coordinator.axe() == []

    question = questions(site, triage_id=kenmerk)[0]
    assert question.status in ("routed", "reassigned") and question.assignee == person
    assert question.theme == "gegevensdeling"
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        corrections = session.exec(select(Correction).where(Correction.question_id == question.id)).all()
        forwards = session.exec(select(Delivery).where(Delivery.question_id == question.id,
                                                       Delivery.recipient == person,
                                                       Delivery.purpose == "forward")).all()
    assert [(c.theme, c.by) for c in corrections] == [("gegevensdeling", "web:coord-dtv")]
    assert len(forwards) == 1 and len(forwards_of(site, kenmerk, person)) == mails_before + 1
    coordinator.page.reload()  # a reload sends nothing again
    assert len(forwards_of(site, kenmerk, person)) == mails_before + 1


def test_a_contact_person_corrects_a_theme(visit, site):
    v = visit("sanne")
    kenmerk = _kenmerken(site)["own"]
    v.goto(f"/questions/{kenmerk}")
    before = questions(site, triage_id=kenmerk)[0].theme
    new = "voogdij" if before != "voogdij" else "strafrecht"
    v.page.select_option("#c-theme", new)
    v.page.click("text=Correctie vastleggen")
    v.page.wait_for_selector("p.ok")
    assert "correctie vastgelegd" in v.page.locator("p.ok").inner_text()
    question = questions(site, triage_id=kenmerk)[0]
    assert question.corrected and question.assignee == "s.verbeek@ind.example"
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        corrections = session.exec(select(Correction).where(Correction.question_id == question.id)).all()
        audit = session.exec(select(AuditEntry).where(AuditEntry.question_id == question.id,
                                                      AuditEntry.action == "correction")).all()
    assert [(c.theme, c.by) for c in corrections] == [(new, "web:sanne")]
    assert [(a.actor, a.detail["theme_before"], a.detail["theme_after"]) for a in audit] == [("web:sanne", before, new)]


# -- accessibility and the keyboard ---------------------------------------------------------
@pytest.mark.parametrize("username, paths", [
    (None, ["/login"]),
    ("sanne", ["/", "/questions/{own}"]),
    ("coord-ind", ["/backlog", "/review", "/questions/{ind}", "/health", "/contacts"]),
    ("skiv", ["/", "/backlog", "/reports"]),
])
def test_no_serious_or_critical_accessibility_violations(visit, site, username, paths):
    v = visit(username)
    refs = _kenmerken(site)
    for path in paths:
        v.goto(path.format(**refs))
        assert v.axe() == [], (username, path)
    assert not [line for line in v.console if "status of 403" not in line], v.console  # a refused page is one


def test_the_backlog_works_with_the_keyboard_alone(visit, site):
    v = visit(None)
    v.goto("/login")
    assert v.page.evaluate("document.activeElement.id") == "username"  # the form has the focus
    v.page.keyboard.type("coord-ind")
    v.page.keyboard.press("Tab")
    v.page.keyboard.type(PASSWORD)
    v.page.keyboard.press("Enter")
    v.page.wait_for_url(f"{site.url}/backlog")
    v.page.keyboard.press("Tab")  # the skip link first
    assert v.page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    v.page.keyboard.press("Enter")
    assert v.page.evaluate("document.activeElement.id") == "inhoud"
    v.page.focus("#f-theme")
    v.page.keyboard.press("ArrowDown")
    theme = v.page.evaluate("document.activeElement.value")
    assert theme
    v.page.locator("form.filters button").focus()
    v.page.keyboard.press("Enter")
    v.page.wait_for_url(f"**/backlog?*theme={theme}*")
    first = v.page.locator("table.questions tbody a").first
    first.focus()
    v.page.keyboard.press("Enter")
    v.page.wait_for_url(f"{site.url}/questions/*")
    assert v.page.locator("h1").inner_text().startswith("Vraag ")


# -- reports ---------------------------------------------------------------------------------
def test_a_reader_sees_the_weekly_report_with_its_charts_and_downloads_the_workbook(visit, site, tmp_path):
    import openpyxl

    v = visit("skiv")
    v.goto("/reports?week=2026-W48")
    frame = v.page.frame_locator("iframe.document")
    assert "2026-W48" in frame.locator("body").inner_text() or "wk 48" in frame.locator("body").inner_text()
    charts = frame.locator("img")
    assert charts.count() >= 4
    assert all(v.page.evaluate("(img) => img.naturalWidth > 0", charts.nth(i).element_handle())
               for i in range(charts.count()))  # the charts are drawn, under the document's own CSP
    v.shot("reports-reader")
    with v.page.expect_download() as download:
        v.page.click("text=Werkmap van 2026-W48 downloaden (XLSX)")
    path = tmp_path / "rapport.xlsx"
    download.value.save_as(path)
    assert openpyxl.load_workbook(path).sheetnames
    assert "Samenvatting voor de coördinator" not in v.page.content()  # a reader gets no digest
    assert not [line for line in v.console if "Content Security Policy" in line], v.console


def test_a_coordinator_reads_the_digest_of_her_organisation(visit, site):
    v = visit("coord-ind")
    v.goto("/reports")
    links = v.page.locator("a[href*='/reports/digest/']")
    assert links.count() >= 1 and all("IND" in text for text in links.all_inner_texts())
    links.first.click()
    assert "Beste" in v.page.content()


# -- models ----------------------------------------------------------------------------------
def test_an_admin_sees_the_models_and_the_gate_refuses_what_it_cannot_compare(visit, site):
    from classifiers import ModelStore

    store = ModelStore(site.settings.classifier.models)
    active = store.active_version()
    v = visit("beheer")
    v.goto("/models")
    assert f"Actief: {active}" in v.page.locator("main").inner_text()
    assert "Tegen de mailbox van aankomst" in v.page.content() and "Betrouwbaarheid van het thema" in v.page.content()
    assert v.axe() == []
    v.shot("models-admin")
    with v.page.expect_navigation(timeout=300_000):  # training takes a while on a busy machine
        v.page.click("text=Nu trainen", no_wait_after=True)
    v.page.wait_for_selector("p.ok, p.error")
    said = v.page.locator("p.ok").inner_text()
    assert "getraind" in said
    newest = store.versions()[-1]
    assert newest != active and store.active_version() in (active, newest)
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action.in_(("model:promote", "model:keep")))).all()
    assert audit and audit[-1].detail["version"] == newest and audit[-1].actor == "web:beheer"


# -- contacts --------------------------------------------------------------------------------
def test_a_coordinator_plans_an_absence_in_her_organisation(visit, site):
    v = visit("coord-ind")
    v.goto("/contacts")
    organisations = set(v.page.locator("main table.plain").first.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert organisations == {"IND"}
    v.page.select_option("#a-email", "j.kleinsma@ind.example")
    v.page.fill("#a-start", "2030-01-06")
    v.page.fill("#a-end", "2030-01-10")
    v.page.click("text=Afwezigheid vastleggen")
    v.page.wait_for_selector("p.ok")
    assert "2030-01-06" in v.page.locator("main").inner_text()
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "contacts:absent")).all()
    assert [(a.actor, a.detail["email"]) for a in audit] == [("web:coord-ind", "j.kleinsma@ind.example")]


def test_from_a_signal_to_an_action_point_a_contact_person_sees(visit, site):
    reader = visit("skiv")
    assert reader.page.url == f"{site.url}/reports"  # a reader's home is the reports
    reader.goto("/reports?week=2026-W48")
    first = reader.page.locator("form.signal:has(input[name=theme]:not([value='']))").first
    theme = first.locator("input[name=theme]").get_attribute("value")
    signal = first.locator("span").inner_text()
    first.locator("button").click()
    reader.page.wait_for_selector("p.ok")
    item = reader.page.locator("section.waiting").last
    item.locator("input[name=decision]").fill("Werkinstructie voor deze vragen opstellen")
    item.locator("input[name=owner]").fill("coördinator IND")
    item.locator("select[name=status]").select_option("open")
    item.locator("button").click()
    reader.page.wait_for_selector("p.ok")
    assert reader.axe() == []
    reader.shot("reports-agenda")
    with unit_of_work(open_database(site.settings.storage.url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action.in_(("agenda:raise", "agenda:decide")))).all()
    assert [(a.action, a.actor) for a in audit][-2:] == [("agenda:raise", "web:skiv"), ("agenda:decide", "web:skiv")]
    from storage.models import ActionPoint

    with unit_of_work(open_database(site.settings.storage.url)) as session:
        point = session.exec(select(ActionPoint).order_by(ActionPoint.id.desc())).first()
    assert (point.theme, point.signal, point.status) == (theme, signal, "open")
    contact = visit("sanne")  # no themes of her own in the contacts file: every theme is hers
    assert "Werkinstructie voor deze vragen opstellen" in contact.page.locator("main").inner_text()


def test_health_shows_each_demo_mailbox_with_its_last_poll_and_the_json_the_same(visit, site):
    v = visit("beheer")
    v.goto("/health")
    table = v.page.locator("table.plain").nth(1).locator("tbody tr")
    rows = {r.locator("td").first.inner_text(): r.locator("td").nth(3).inner_text() for r in table.all()}
    assert set(rows) == {"ind", "dtv", "rvdk"} and all(value.startswith("20") for value in rows.values())
    figures = v.context.request.get(f"{site.url}/health.json").json()
    assert {m["name"]: m["last_poll_at"] for m in figures["mailboxes"]} == rows
    assert v.axe() == []
    v.shot("health-admin")
