"""The report's figures as an Excel workbook (openpyxl): one sheet per section, counts only."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.reports.weekly import Report

BOLD = Font(bold=True)


def _sheet(book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append([_value(v) for v in row])
    sheet.freeze_panes = "B2"
    for index, name in enumerate(header, start=1):
        widest = max([len(str(name))] + [len(str(c.value or "")) for c in sheet[get_column_letter(index)]])
        sheet.column_dimensions[get_column_letter(index)].width = min(48, widest + 2)


def _value(value):
    return round(value, 2) if isinstance(value, float) else value


def report_workbook(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    weeks = [w.iso for w in report.weeks]
    _sheet(book, "Backlog", ["week", "ontvangen", "beantwoord", "open aan eind van week", "over de termijn"],
           ((p.week.iso, p.received, p.answered, p.open, p.overdue) for p in report.backlog))
    for table in report.volumes:
        _sheet(book, f"Per {table.title}"[:31], [table.title, *weeks, "verschil met vorige week"],
               ((r.label, *r.counts, r.change) for r in table.rows))
    _sheet(book, "Reactietijden",
           ["organisatie", "beantwoord", "mediaan (dagen)", "90e percentiel (dagen)",
            "aandeel op tijd", "mediaan vorige week (dagen)"],
           ((r.organisation, r.answered, r.median_days, r.p90_days, r.on_time, r.previous_median_days)
            for r in report.response_times))
    _sheet(book, "Beoordeling en herverdeling", ["week", "ter beoordeling", "herverdeeld"],
           ((r.week.iso, r.to_review, r.reassigned) for r in report.rerouting))
    _sheet(book, "Contactpersonen",
           ["contactpersoon", "organisatie", "regio", "capaciteit", "toegewezen", "beantwoord",
            "open aan eind van week", "over de termijn"],
           ((r.name, r.organisation, r.region, r.capacity, r.assigned, r.answered, r.open, r.overdue)
            for r in report.contact_load))
    _sheet(book, "Signalen", ["soort", "thema of term", "deze week", "gemiddelde eerdere weken"],
           [("thema", s.label, s.this_week, s.earlier_mean) for s in report.rising_themes]
           + [("term", s.label, s.this_week, s.earlier_mean) for s in report.rising_terms])
    _sheet(book, "Onzeker geclassificeerd",
           ["thema (beste gok)", "vragende organisatie", "deze week", "gemiddelde eerdere weken"],
           ((g.theme, g.asking_organisation, g.this_week, g.earlier_mean) for g in report.unsure_groups))
    _sheet(book, "Actiepunten", ["status", "onderwerp", "thema", "besluit", "eigenaar"],
           ((a.status, a.title, a.theme or "alle thema's", a.decision, a.owner) for a in report.action_points))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
