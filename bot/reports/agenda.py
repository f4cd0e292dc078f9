"""From the SKIV back to the contact persons: agenda items raised from the weekly report's
signals, and the action points the meeting decides on them.

A reader or admin raises an item from a signal (a rising theme or term, a group the classifier
was unsure about): it is on the agenda. After the meeting its decision, owner and status are
recorded (`open` while the action runs, then `gereed` or `vervallen`). Contact persons see the
open action points of their themes; the weekly report lists them with their status. Every
change is audited with the person who made it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, select

from storage import repo
from storage.models import ActionPoint, utcnow

STATUSES = ("agenda", "open", "gereed", "vervallen")  # agenda: raised, not yet discussed
CURRENT = ("agenda", "open")
MAX_TEXT = 500


class AgendaError(ValueError):
    """An agenda item or decision that cannot be recorded: one Dutch line naming the field."""


@dataclass(frozen=True)
class ActionRow:
    """An action point as people see it."""

    id: int
    title: str
    theme: str | None
    signal: str
    status: str
    decision: str
    owner: str

    @classmethod
    def of(cls, point: ActionPoint) -> "ActionRow":
        return cls(point.id, point.title, point.theme, point.signal, point.status, point.decision, point.owner)


def _text(field: str, value: str, *, required: bool = False) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise AgendaError(f"{field}: vul dit in")
    if len(value) > MAX_TEXT:
        raise AgendaError(f"{field}: te lang ({len(value)} tekens, hooguit {MAX_TEXT})")
    return value


def _theme(theme: str | None, themes: Iterable[str]) -> str | None:
    if theme in (None, ""):
        return None
    if theme not in set(themes):
        raise AgendaError(f"thema: '{theme}' is geen thema uit themes.toml")
    return theme


def raise_item(session: Session, *, title: str, theme: str | None, signal: str, actor: str,
               themes: Iterable[str]) -> ActionPoint:
    """Put a signal on the SKIV agenda."""
    point = ActionPoint(created_by=actor, title=_text("titel", title, required=True),
                        theme=_theme(theme, themes), signal=_text("signaal", signal))
    session.add(point)
    session.flush()
    repo.audit(session, action="agenda:raise", actor=actor, item=point.id, theme=point.theme)
    return point


def record_outcome(session: Session, item_id: int, *, status: str, decision: str, owner: str, actor: str,
                   theme: str | None = None, themes: Iterable[str] = ()) -> ActionPoint:
    """What the meeting decided on an item: the action, who carries it out, and its status."""
    point = session.get(ActionPoint, item_id)
    if point is None:
        raise AgendaError(f"agendapunt {item_id} bestaat niet")
    if status not in STATUSES:
        raise AgendaError(f"status: '{status}' is geen van {', '.join(STATUSES)}")
    decision = _text("besluit", decision)
    if status != "agenda" and not decision:
        raise AgendaError("besluit: vul in wat het overleg besloot")
    before = point.status
    point.status, point.decision, point.owner = status, decision, _text("eigenaar", owner)
    if theme is not None:
        point.theme = _theme(theme, themes)
    point.updated_at = utcnow()
    session.add(point)
    repo.audit(session, action="agenda:decide", actor=actor, item=point.id, status_before=before,
               status_after=status, theme=point.theme)
    return point


def current_for_themes(session: Session, themes: Sequence[str] | None) -> list[ActionRow]:
    """Items on the agenda or running, for a contact person with these themes (None or empty:
    every theme); items without a theme concern everyone."""
    query = select(ActionPoint).where(ActionPoint.status.in_(CURRENT))
    if themes:
        query = query.where(or_(ActionPoint.theme.is_(None), ActionPoint.theme.in_(list(themes))))
    return [ActionRow.of(p) for p in session.exec(query.order_by(ActionPoint.created_at, ActionPoint.id))]


def for_report(session: Session, *, since, until) -> list[ActionRow]:
    """What the weekly report lists: every current item, and those closed in the week."""
    query = select(ActionPoint).where(or_(
        ActionPoint.status.in_(CURRENT),
        (ActionPoint.updated_at >= since) & (ActionPoint.updated_at < until),
    )).where(ActionPoint.created_at < until)
    return [ActionRow.of(p) for p in session.exec(query.order_by(ActionPoint.created_at, ActionPoint.id))]
