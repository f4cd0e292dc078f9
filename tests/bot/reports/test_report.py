"""The weekly report, built from a generated history and checked against the database."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import and_, func, or_
from sqlmodel import select

from bot.cli.commands import main
from bot.reports.files import write_report
from bot.reports.weekly import (
    Week, build_report, load_theme_names, parse_week,
)
from storage.db import unit_of_work
from storage.models import AuditEntry, Question

# Written out, not imported: a question counts once it is a question someone deals with (not a
# skipped mail); review and reassignment are the audit actions the worker and follow-up write.
COUNTED_STATES = ("routed", "review", "reassigned", "answered", "closed")
REVIEW_ACTION = "triage:review"
REASSIGN_ACTION = "question:reassign"
from tests.bot.browser import screenshot
from tests.bot.history import PLANTED, RISING_TERM, Filled, filled_database

WEEK = parse_week("2025-W14")


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Filled:
    return filled_database(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="module")
def report(filled):
    return build_report(filled.settings, filled.engine, today=filled.today)


@pytest.fixture(scope="module")
def written(filled, tmp_path_factory) -> list[Path]:
    return write_report(filled.settings, filled.engine, tmp_path_factory.mktemp("report"), today=filled.today)


def scalar(filled: Filled, query) -> int:
    with unit_of_work(filled.engine) as session:
        return session.exec(query).one()


def counted(query):
    return query.where(Question.verdict == "question", Question.status != "skipped")


def received_in(week: Week):
    return and_(Question.received_at >= week.begins, Question.received_at < week.ends)


# --- weeks -------------------------------------------------------------------------------------
def test_the_default_week_is_the_last_complete_one(report, filled):
    assert report.week == WEEK
    assert [w.iso for w in report.weeks][-2:] == ["2025-W13", "2025-W14"]
    assert len(report.weeks) == filled.settings.reports.weeks


@pytest.mark.parametrize("text", ["2025-14", "2025-W54", "W14", "2025-W1", ""])
def test_a_wrong_week_is_refused(text):
    with pytest.raises(ValueError):
        parse_week(text)


def test_week_bounds_are_dutch_time():
    week = parse_week("2025-W14")
    assert week.start.isoformat() == "2025-03-31" and week.end.isoformat() == "2025-04-06"
    assert week.begins.isoformat() == "2025-03-31T00:00:00+02:00"


# --- numbers against the database ----------------------------------------------------------------
def test_volumes_per_theme_match_the_database(report, filled):
    names = load_theme_names(filled.settings.routing.rules)
    table = {row.label: row.counts for row in report.volumes[0].rows}
    for key, name in names.items():
        for index, week in enumerate(report.weeks):
            expected = scalar(filled, counted(select(func.count()).where(received_in(week), Question.theme == key)))
            assert table.get(name, (0,) * len(report.weeks))[index] == expected, (name, week.iso)


def test_volumes_per_asking_organisation_and_region_add_up_to_the_week(report, filled):
    total = scalar(filled, counted(select(func.count()).where(received_in(WEEK))))
    assert report.now.received == total
    for table in report.volumes:
        assert sum(row.this_week for row in table.rows) == total
    nidos = scalar(filled, counted(select(func.count()).where(received_in(WEEK),
                                                              Question.asking_organisation == "Nidos")))
    assert {r.label: r.this_week for r in report.volumes[1].rows}["Nidos"] == nidos
    breda = scalar(filled, counted(select(func.count()).where(received_in(WEEK), Question.region == "Breda")))
    assert {r.label: r.this_week for r in report.volumes[2].rows}["RvdK Breda"] == breda


def test_week_over_week_change(report):
    for table in report.volumes:
        for row in table.rows:
            assert row.change == row.counts[-1] - row.counts[-2]


def test_response_times_match_the_database(report, filled):
    rows = {r.organisation: r for r in report.response_times}
    for organisation in ("IND", "DT&V", "RvdK"):
        with unit_of_work(filled.engine) as session:
            answered = session.exec(counted(select(Question.received_at, Question.answered_at, Question.due_on).where(
                Question.organisation == organisation,
                Question.answered_at >= WEEK.begins, Question.answered_at < WEEK.ends))).all()
        days = sorted((a - r).total_seconds() / 86400 for r, a, _ in answered)
        row = rows[organisation]
        assert row.answered == len(days) > 10
        assert row.median_days == pytest.approx(statistics.median(days))
        # the 90th percentile, interpolated: rank 0.9 * (n - 1) between the two nearest values
        rank = 0.9 * (len(days) - 1)
        low = int(rank)
        p90 = days[low] + (days[min(low + 1, len(days) - 1)] - days[low]) * (rank - low)
        assert row.p90_days == pytest.approx(p90)
        on_time = [a.astimezone(WEEK.begins.tzinfo).date() <= due for _, a, due in answered]
        assert row.on_time == pytest.approx(sum(on_time) / len(on_time))
    assert rows["DT&V"].median_days > rows["RvdK"].median_days  # the generator makes DT&V slowest
    assert rows["alle organisaties"].answered == report.now.answered


def test_backlog_matches_the_database(report, filled):
    for point in report.backlog:
        end = point.week.ends
        still_open = counted(select(func.count()).where(
            Question.received_at < end,
            or_(Question.answered_at.is_(None), Question.answered_at >= end),
            or_(Question.closed_at.is_(None), Question.closed_at >= end),
            Question.status.in_(COUNTED_STATES),
        ))
        assert point.open == scalar(filled, still_open), point.week.iso
        overdue = still_open.where(Question.due_on < end.date())
        assert point.overdue == scalar(filled, overdue), point.week.iso
    assert sum(report.backlog_per_organisation.values()) == report.now.open


def test_review_and_reassignment_come_from_the_audit(report, filled):
    for row in report.rerouting:
        for action, value in ((REVIEW_ACTION, row.to_review), (REASSIGN_ACTION, row.reassigned)):
            expected = scalar(filled, select(func.count(func.distinct(AuditEntry.question_id))).where(
                AuditEntry.action == action, AuditEntry.at >= row.week.begins, AuditEntry.at < row.week.ends))
            assert value == expected
    assert report.rerouting[-1].to_review > 0 and report.rerouting[-1].reassigned > 0


def test_contact_load_is_counts_that_add_up(report, filled):
    assigned_open = scalar(filled, counted(select(func.count()).where(
        Question.assignee.is_not(None), Question.received_at < WEEK.ends,
        or_(Question.answered_at.is_(None), Question.answered_at >= WEEK.ends),
        or_(Question.closed_at.is_(None), Question.closed_at >= WEEK.ends),
        Question.status.in_(COUNTED_STATES))))
    assert sum(r.open for r in report.contact_load) == assigned_open
    names = {r.name for r in report.contact_load}
    assert "Contactpersoon 1 Breda" in names and not any("Coördinator" in n for n in names)
    for row in report.contact_load:
        assert all(isinstance(v, int) for v in (row.assigned, row.answered, row.open, row.overdue))


def test_signals_find_the_rising_theme_and_term(report):
    assert [s.label for s in report.rising_themes][:1] == ["Chavez-zaken"]
    assert RISING_TERM in {s.label for s in report.rising_terms}
    assert report.unsure_groups and all(g.this_week >= 1 for g in report.unsure_groups)


# --- outputs -------------------------------------------------------------------------------------
def test_the_report_is_written_as_html_text_charts_and_workbook(written):
    suffixes = sorted(p.suffix for p in written)
    assert suffixes == [".html", ".png", ".png", ".png", ".png", ".txt", ".xlsx"]
    html = next(p for p in written if p.suffix == ".html").read_text(encoding="utf-8")
    for png in (p for p in written if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f'src="{png.name}"' in html
    assert "Signalen voor de SKIV-agenda" in html and "Reactietijden" in html


def test_the_workbook_holds_the_same_figures(written, report):
    book = load_workbook(next(p for p in written if p.suffix == ".xlsx"), read_only=True)
    themes = list(book["Per thema"].iter_rows(values_only=True))
    assert themes[0][0] == "thema" and themes[0][-2] == "2025-W14"
    assert {row[0]: row[-2] for row in themes[1:]} == {r.label: r.this_week for r in report.volumes[0].rows}
    backlog = list(book["Backlog"].iter_rows(values_only=True))
    assert backlog[-1] == ("2025-W14", report.now.received, report.now.answered, report.now.open, report.now.overdue)
    assert "Contactpersonen" in book.sheetnames and "Onzeker geclassificeerd" in book.sheetnames


def test_no_personal_data_and_no_question_text_in_any_output(written):
    texts = []
    for path in written:
        if path.suffix in (".html", ".txt"):
            texts.append(path.read_text(encoding="utf-8"))
        elif path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True)
            texts.append(" ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
                                  for v in row if v is not None))
    everything = "\n".join(texts)
    for planted in PLANTED:
        assert planted not in everything, planted
    assert "Beste collega" not in everything and "<script" not in everything


def test_the_report_renders_in_chromium(written, require_server):
    html = next(p for p in written if p.suffix == ".html")
    shot, console = screenshot(html, "report", require_server)
    assert console == []
    assert shot.stat().st_size > 50_000


def test_an_empty_database_gives_a_report_of_zeros(tmp_path):
    empty = filled_database(tmp_path, questions=0, plant=False)
    paths = write_report(empty.settings, empty.engine, tmp_path / "out", today=empty.today)
    text = next(p for p in paths if p.suffix == ".txt").read_text(encoding="utf-8")
    assert "geen thema steeg" in text and "geen vragen beantwoord" in text


# --- command line ---------------------------------------------------------------------------------
def test_report_command_writes_a_chosen_week(filled, tmp_path):
    result = CliRunner().invoke(main, ["--config", str(filled.config), "report", "--week", "2025-W13",
                                       "--out", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rapport-2025-W13.html").exists() and (tmp_path / "rapport-2025-W13.xlsx").exists()


def test_report_command_refuses_a_wrong_week_and_having_nothing_to_do(filled, tmp_path):
    runner = CliRunner()
    config = ["--config", str(filled.config)]
    result = runner.invoke(main, [*config, "report", "--week", "2025-W60", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--week" in result.output
    result = runner.invoke(main, [*config, "report", "--dry-run"])
    assert result.exit_code == 2 and "niets te doen" in result.output


def test_an_earlier_week_reads_the_same_history(filled, report):
    """The report reads only its window of weeks (and what was still open then): a report over
    an earlier week gives that week the same figures as the later report did."""
    earlier = build_report(filled.settings, filled.engine, week=parse_week("2025-W10"))
    assert earlier.weeks[0].start == parse_week("2025-W10").start - timedelta(weeks=len(earlier.weeks) - 1)
    same = next(p for p in report.backlog if p.week.iso == "2025-W10")
    assert earlier.now == same


def test_the_latest_week_is_that_of_the_newest_question(filled):
    from bot.reports.weekly import latest_week

    assert latest_week(filled.engine).iso == "2025-W15"
