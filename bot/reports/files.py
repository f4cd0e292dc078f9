"""The weekly report as files and parts: its four charts (PNG) and the files `report --out` writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.reports import charts
from bot.reports.weekly import Report, Week, build_report
from bot.reports.workbook import report_workbook
from bot.settings import Settings


@dataclass(frozen=True)
class ReportFile:
    name: str  # file name
    title: str  # alt text / caption
    data: bytes = field(repr=False)


def report_charts(report: Report) -> list[ReportFile]:
    labels = [w.short for w in report.weeks]
    themes = report.volumes[0].rows
    answered = [r for r in report.response_times if r.organisation != "alle organisaties"]
    return [
        ReportFile("vragen-per-week.png", "Ontvangen vragen per week, per vragende organisatie",
                   charts.stacked_weeks(labels, {r.label: list(r.counts) for r in report.volumes[1].rows},
                                        title="Ontvangen vragen per week")),
        ReportFile("thema.png", "Vragen per thema: deze week en het gemiddelde van de weken ervoor",
                   charts.this_week_against_earlier(
                       [r.label for r in themes], [r.this_week for r in themes],
                       [sum(r.counts[:-1]) / (len(r.counts) - 1) for r in themes],
                       title=f"Vragen per thema, {report.week.short}")),
        ReportFile("backlog.png", "Openstaande vragen aan het eind van elke week, en hoeveel over de termijn",
                   charts.backlog_trend(labels, [p.open for p in report.backlog], [p.overdue for p in report.backlog],
                                        title="Backlog aan het eind van de week")),
        ReportFile("reactietijd.png", "Reactietijd per organisatie in dagen: mediaan en 90e percentiel",
                   charts.response_times([r.organisation for r in answered],
                                         [r.median_days or 0.0 for r in answered],
                                         [r.p90_days or 0.0 for r in answered],
                                         title=f"Reactietijd in dagen, {report.week.short}")),
    ]


def write_report(settings: Settings, engine: Engine, out: Path, *, week: Week | None = None,
                 today: date | None = None) -> list[Path]:
    """The report as files in `out`: HTML (charts beside it as PNG), plain text and XLSX."""
    report = build_report(settings, engine, week=week, today=today)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"rapport-{report.week.iso}"
    written = []
    images = {}
    for chart in report_charts(report):
        path = out / f"{stem}-{chart.name}"
        path.write_bytes(chart.data)
        images[chart.name] = path.name
        written.append(path)
    for suffix, text in ((".html", report.html(images)), (".txt", report.text())):
        path = out / f"{stem}{suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    path = out / f"{stem}.xlsx"
    path.write_bytes(report_workbook(report))
    written.append(path)
    return written
