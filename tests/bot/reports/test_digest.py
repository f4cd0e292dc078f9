"""Coordinators' digests, built from a generated history and checked against the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli.commands import main
from bot.reports.digest import build_digests, write_digests
from storage.db import unit_of_work
from storage.models import Question
from tests.bot.browser import screenshot
from tests.bot.history import PLANTED, Filled, filled_database

OPEN = ("routed", "review", "reassigned")


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Filled:
    return filled_database(tmp_path_factory.mktemp("history"), questions=1500, weeks=6)


@pytest.fixture(scope="module")
def digests(filled):
    return {d.coordinator.email: d for d in build_digests(filled.settings, filled.engine, today=filled.today)}


@pytest.fixture(scope="module")
def written(filled, tmp_path_factory) -> list[Path]:
    return write_digests(filled.settings, filled.engine, tmp_path_factory.mktemp("digest"), today=filled.today)


def open_questions(filled: Filled, **where) -> list[Question]:
    query = select(Question).where(Question.status.in_(OPEN))
    for column, value in where.items():
        query = query.where(getattr(Question, column) == value)
    with unit_of_work(filled.engine) as session:
        return list(session.exec(query).all())


def test_one_digest_per_active_coordinator(digests):
    assert set(digests) == {"coordinator@ind.example", "coordinator@dtv.example", "coordinator@rvdk.example",
                            "coordinator.breda@rvdk.example"}  # not the inactive one


@pytest.mark.parametrize("email, where", [
    ("coordinator@ind.example", {"organisation": "IND"}),
    ("coordinator@dtv.example", {"organisation": "DT&V"}),
    ("coordinator.breda@rvdk.example", {"organisation": "RvdK", "region": "Breda"}),
])
def test_a_digest_holds_the_open_questions_of_its_organisation_or_region(digests, filled, email, where):
    digest = digests[email]
    expected = open_questions(filled, **where)
    assert sorted(r.kenmerk for r in digest.rows) == sorted(q.triage_id for q in expected)
    overdue = [q for q in expected if q.due_on < filled.today]
    assert digest.overdue == len(overdue) > 0
    assert {r.kenmerk for r in digest.overdue_rows} == {q.triage_id for q in overdue}


def test_overdue_first_then_the_rest_each_oldest_first(digests, filled):
    digest = digests["coordinator@rvdk.example"]
    for part in (digest.overdue_rows, digest.open_rows):
        received = [r.received_on for r in part]
        assert received == sorted(received)
    row = digest.overdue_rows[0]
    assert row.age_days == (filled.today - row.received_on).days
    assert row.overdue_days == (filled.today - row.due_on).days > 0


def test_rows_name_assignee_theme_and_status(digests):
    rows = digests["coordinator@ind.example"].rows
    assert any(r.assignee.startswith("Contactpersoon ") for r in rows)
    assert any(r.assignee == "nog niemand" and r.status == "ter beoordeling" for r in rows)
    assert {r.theme for r in rows} <= {
        "Kinderbeschermingsmaatregelen", "Gezag en omgang", "Strafrecht", "Voogdij en alleenstaande minderjarigen",
        "Dublin en nareizende gezinsleden", "Chavez-zaken", "Illegale opneming en pleegkinderen",
        "Gegevensdeling en AVG", "Voorlichting en bijeenkomsten", "Overige procesvragen"}


def test_the_kenmerk_is_in_html_and_text(written, digests):
    digest = digests["coordinator.breda@rvdk.example"]
    html = next(p for p in written if p.name == "digest-RvdK-Breda-coordinatorbreda.html").read_text(encoding="utf-8")
    text = next(p for p in written if p.name == "digest-RvdK-Breda-coordinatorbreda.txt").read_text(encoding="utf-8")
    for row in digest.rows:
        assert row.kenmerk in html and f"[{row.kenmerk}]" in text
    assert "Outlook" in html and "Outlook" in text


def test_with_a_console_each_kenmerk_links_to_its_page(filled):
    web = filled.settings.web.model_copy(update={"public_url": "https://bvhk.example.nl/triage/"})
    settings = filled.settings.model_copy(update={"web": web})
    digest = next(d for d in build_digests(settings, filled.engine, today=filled.today) if d.rows)
    row = digest.rows[0]
    link = f"https://bvhk.example.nl/triage/questions/{row.kenmerk}"
    assert f'<a href="{link}">{row.kenmerk}</a>' in digest.html()
    assert link in digest.text()
    assert "/questions/" not in next(d for d in build_digests(filled.settings, filled.engine, today=filled.today)
                                     if d.rows).html()


def test_no_subject_no_personal_data_and_no_question_text(written, filled):
    everything = "\n".join(p.read_text(encoding="utf-8") for p in written)
    for planted in PLANTED:
        assert planted not in everything, planted
    assert "Beste collega" not in everything and "Met vriendelijke groet" not in everything
    assert "<script" not in everything and "alert(" not in everything  # a subject with HTML: not shown at all
    with unit_of_work(filled.engine) as session:
        subjects = {q.subject for q in session.exec(select(Question)) if q.subject and len(q.subject) > 12}
    assert subjects and not any(s in everything for s in subjects)


def test_rows_say_who_asks(digests, filled):
    rows = {r.kenmerk: r for r in digests["coordinator@dtv.example"].rows}
    for q in open_questions(filled, organisation="DT&V"):
        assert rows[q.triage_id].asking == (q.asking_organisation or "onbekend")


def test_nothing_to_say_means_no_digest_unless_configured(tmp_path):
    empty = filled_database(tmp_path, questions=0, plant=False)
    assert build_digests(empty.settings, empty.engine, today=empty.today) == []
    everyone = build_digests(empty.settings, empty.engine, today=empty.today, include_empty=True)
    assert len(everyone) == 4 and all(d.is_empty for d in everyone)
    assert "geen vragen open" in everyone[0].text()


def test_the_digest_renders_in_chromium(written, require_server):
    html = next(p for p in written if p.name == "digest-RvdK-Breda-coordinatorbreda.html")
    shot, console = screenshot(html, "digest", require_server)
    assert console == []  # the planted <script> did not run
    assert shot.stat().st_size > 20_000


def test_digest_command_dry_run_writes_and_sends_nothing(filled, tmp_path):
    result = CliRunner().invoke(main, ["--config", str(filled.config), "digest", "--dry-run", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "coordinator.breda@rvdk.example (RvdK, regio Breda)" in result.output
    assert len(list(tmp_path.glob("digest-*.html"))) == 4
    assert not (filled.config.parent / "outbox").exists()


def test_a_question_without_organisation_counts_for_its_mailbox(tmp_path):
    from bot.settings import MaildirSettings
    from tests.bot.history import END, plant_personal_data

    empty = filled_database(tmp_path, questions=0, plant=False)
    plant_personal_data(empty.engine, received=END, organisation="IND",
                        region="Zwolle", copies=1)
    with unit_of_work(empty.engine) as session:
        for question in session.exec(select(Question)).all():
            question.organisation, question.status = None, "review"
            session.add(question)
    box = MaildirSettings(kind="maildir", name="ind", organisation="IND", address="bvhk@ind.example", path=tmp_path)
    settings = empty.settings.model_copy(update={"mailboxes": [box]})
    digests = {d.coordinator.email: d for d in build_digests(settings, empty.engine, today=empty.today)}
    assert set(digests) == {"coordinator@ind.example"} and len(digests["coordinator@ind.example"].rows) == 4
