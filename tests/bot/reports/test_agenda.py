"""SKIV action points: raised from a signal, decided in the meeting, seen by the contact
persons of the theme, listed by the weekly report; every step audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import re

import pytest
from sqlmodel import select

from bot.reports import agenda
from bot.reports.agenda import AgendaError
from storage.audit import verify
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry

THEMES = ("voogdij", "strafrecht", "chavez")


@pytest.fixture
def engine(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield engine
    engine.dispose()


def test_raise_decide_and_who_sees_it(engine):
    with unit_of_work(engine) as s:
        voogdij = agenda.raise_item(s, title="Meer vragen over voogdij door familieleden", theme="voogdij",
                                    signal="thema stijgt: voogdij (2026-W48)", actor="secretaris", themes=THEMES).id
        general = agenda.raise_item(s, title="Bereikbaarheid functionele mailboxen", theme=None, signal="",
                                    actor="secretaris", themes=THEMES).id
        strafrecht = agenda.raise_item(s, title="PIJ en verblijf", theme="strafrecht", signal="", actor="secretaris",
                                       themes=THEMES).id
    with unit_of_work(engine) as s:
        agenda.record_outcome(s, voogdij, status="open", decision="Werkinstructie voogdij aanvullen",
                              owner="IND Den Haag", actor="secretaris")
        agenda.record_outcome(s, strafrecht, status="vervallen", decision="Geen actie nodig", owner="",
                              actor="secretaris")
    with unit_of_work(engine) as s:
        seen_by_voogdij = [(r.title, r.status) for r in agenda.current_for_themes(s, ["voogdij"])]
        seen_by_all = [r.id for r in agenda.current_for_themes(s, None)]
        actions = [(e.action, e.actor) for e in s.exec(select(AuditEntry).order_by(AuditEntry.seq))]
        assert verify(s).ok
    assert seen_by_voogdij == [("Meer vragen over voogdij door familieleden", "open"),
                               ("Bereikbaarheid functionele mailboxen", "agenda")]
    assert seen_by_all == [voogdij, general]  # the dropped strafrecht item is no longer current
    assert actions == [("agenda:raise", "secretaris")] * 3 + [("agenda:decide", "secretaris")] * 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(title="", theme=None), "titel: vul dit in"),
    (dict(title="x" * 501, theme=None), "titel: te lang (501 tekens, hooguit 500)"),
    (dict(title="Iets", theme="voogdy"), "thema: 'voogdy' is geen thema uit themes.toml"),
])
def test_a_bad_item_is_refused_with_the_field_named(engine, kwargs, message):
    with unit_of_work(engine) as s, pytest.raises(AgendaError, match=f"^{re.escape(message)}$"):
        agenda.raise_item(s, signal="", actor="secretaris", themes=THEMES, **kwargs)


def test_a_decision_needs_text_and_a_known_status(engine):
    with unit_of_work(engine) as s:
        item = agenda.raise_item(s, title="Iets", theme=None, signal="", actor="x", themes=THEMES).id
    with unit_of_work(engine) as s:
        with pytest.raises(AgendaError, match="^status: 'klaar' is geen van agenda, open, gereed, vervallen$"):
            agenda.record_outcome(s, item, status="klaar", decision="d", owner="", actor="x")
        with pytest.raises(AgendaError, match="^besluit: vul in wat het overleg besloot$"):
            agenda.record_outcome(s, item, status="open", decision=" ", owner="", actor="x")
        with pytest.raises(AgendaError, match="^agendapunt 999 bestaat niet$"):
            agenda.record_outcome(s, 999, status="open", decision="d", owner="", actor="x")


def test_the_report_lists_current_items_and_those_closed_in_the_week(engine):
    week_start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    week_end = week_start + timedelta(days=7)
    with unit_of_work(engine) as s:
        ids = [agenda.raise_item(s, title=f"punt {n}", theme=None, signal="", actor="x", themes=THEMES).id
               for n in range(3)]
    with unit_of_work(engine) as s:
        agenda.record_outcome(s, ids[1], status="gereed", decision="gedaan", owner="RvdK", actor="x")
        agenda.record_outcome(s, ids[2], status="gereed", decision="gedaan", owner="RvdK", actor="x")
    with unit_of_work(engine) as s:
        from storage.models import ActionPoint

        old = s.get(ActionPoint, ids[2])
        old.updated_at = old.created_at = week_start - timedelta(days=30)  # closed long before the week
        s.add(old)
    with unit_of_work(engine) as s:
        now = datetime.now(timezone.utc)
        listed = agenda.for_report(s, since=now - timedelta(days=1), until=now + timedelta(days=1))
        assert [(r.title, r.status) for r in listed] == [("punt 0", "agenda"), ("punt 1", "gereed")]
        assert agenda.for_report(s, since=week_start, until=week_end) == []  # nothing existed yet that week


def test_the_weekly_report_shows_the_action_points_in_every_format(tmp_path):
    import openpyxl

    from bot.reports.files import write_report
    from tests.bot.history import filled_database

    empty = filled_database(tmp_path, questions=0, plant=False)
    with unit_of_work(empty.engine) as s:
        item = agenda.raise_item(s, title="Werkinstructie voogdij", theme="voogdij", signal="", actor="x",
                                 themes=THEMES).id
    with unit_of_work(empty.engine) as s:
        agenda.record_outcome(s, item, status="open", decision="Aanvullen met nareis", owner="IND Zwolle", actor="x")
    from bot.reports.weekly import LOCAL

    next_week = datetime.now(LOCAL).date() + timedelta(days=7)  # the report of the week the item was raised
    paths = write_report(empty.settings, empty.engine, tmp_path / "out", today=next_week)
    text = next(p for p in paths if p.suffix == ".txt").read_text(encoding="utf-8")
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "- [open] Werkinstructie voogdij (thema voogdij): Aanvullen met nareis — IND Zwolle" in text
    assert "<td class=\"label\">Werkinstructie voogdij</td>" in html
    sheet = openpyxl.load_workbook(next(p for p in paths if p.suffix == ".xlsx"))["Actiepunten"]
    assert [c.value for c in sheet[2]] == ["open", "Werkinstructie voogdij", "voogdij", "Aanvullen met nareis",
                                            "IND Zwolle"]
