"""The report's charts: matplotlib without a display (Agg), each returned as PNG bytes.

Plain functions over plain lists; no pyplot, so no global figure state and nothing to
close. Sized for an Outlook reading pane (about 720 px wide).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Rijkshuisstijl colours, enough that the nine kinds of askers never share one
COLOURS = ("#01689b", "#e17000", "#39870c", "#a90061", "#76d2b6", "#ffb612", "#8fcae7", "#ca005d",
           "#42145f", "#673327", "#275937", "#f9e11e")
WIDTH, HEIGHT, DPI = 7.2, 3.4, 100


def _figure(height: float = HEIGHT) -> Figure:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _style(axes, title: str) -> None:
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def stacked_weeks(weeks: list[str], series: dict[str, list[int]], *, title: str) -> bytes:
    """Bars per week, stacked by group (e.g. the asking organisation)."""
    figure = _figure()
    axes = figure.add_subplot()
    bottom = [0] * len(weeks)
    for (label, counts), colour in zip(series.items(), COLOURS * 4, strict=False):
        axes.bar(weeks, counts, bottom=bottom, label=label, color=colour, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _style(axes, title)
    axes.set_ylabel("vragen")
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return _png(figure)


def this_week_against_earlier(labels: list[str], this_week: list[int], earlier: list[float], *,
                              title: str) -> bytes:
    """Horizontal bars per label: this week's count, with the earlier weeks' mean beside it."""
    figure = _figure(max(2.4, 0.32 * len(labels) + 1.0))
    axes = figure.add_subplot()
    rows = list(range(len(labels)))[::-1]
    axes.barh([r + 0.2 for r in rows], this_week, height=0.4, color=COLOURS[0], label="deze week")
    axes.barh([r - 0.2 for r in rows], earlier, height=0.4, color="#b2d7ee", label="gemiddelde eerdere weken")
    axes.set_yticks(rows, labels, fontsize=8)
    _style(axes, title)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.grid(axis="y", visible=False)
    if labels:
        axes.legend(fontsize=8, frameon=False, loc="lower right")
    return _png(figure)


def backlog_trend(weeks: list[str], open_: list[int], overdue: list[int], *, title: str) -> bytes:
    """The open questions at each week's end, with those past their due date."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(weeks, open_, marker="o", color=COLOURS[0], label="open")
    axes.plot(weeks, overdue, marker="o", color="#d52b1e", label="over de termijn")
    axes.set_ylim(bottom=0)
    _style(axes, title)
    axes.set_ylabel("vragen")
    axes.legend(fontsize=8, frameon=False)
    return _png(figure)


def response_times(organisations: list[str], median: list[float], p90: list[float], *, title: str) -> bytes:
    """Per organisation: median and 90th percentile of the response time in days."""
    figure = _figure()
    axes = figure.add_subplot()
    positions = range(len(organisations))
    axes.bar([p - 0.2 for p in positions], median, width=0.4, color=COLOURS[0], label="mediaan")
    axes.bar([p + 0.2 for p in positions], p90, width=0.4, color=COLOURS[1], label="90e percentiel")
    axes.set_xticks(list(positions), organisations)
    _style(axes, title)
    axes.set_ylabel("dagen")
    if organisations:
        axes.legend(fontsize=8, frameon=False)
    return _png(figure)
