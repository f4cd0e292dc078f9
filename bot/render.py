"""Rendering: one Jinja2 environment, autoescape on, undefined names are errors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates are part of the installed package: no file checked at each render
    )
    env.filters["datum"] = _datum
    env.filters["procent"] = lambda x: f"{round(100 * x)}%"
    env.filters["getal"] = _getal
    env.filters["verschil"] = _verschil
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


_MONTHS = "januari februari maart april mei juni juli augustus september oktober november december".split()
_DAYS = "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag".split()


def _datum(value) -> str:
    """A date the Dutch way: 'dinsdag 1 december 2026'."""
    if value is None:
        return "—"
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def _getal(value, decimals: int = 1) -> str:
    """A number the Dutch way, '1.234,5'; '—' when there is none."""
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _verschil(value: int | float) -> str:
    """A change with its sign: '+3', '−2', '0'."""
    if not value:
        return "0"
    text = f"{abs(value):g}".replace(".", ",")
    return f"+{text}" if value > 0 else f"−{text}"
