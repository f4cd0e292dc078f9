"""The queries of the web console's pages: every one scoped to what the signed-in person may
see, filtered, sorted and paged in the database (50,000 questions stay fast), and the local
accounts. Plain functions, keyword-only arguments, the session passed in; nothing commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, false, func, or_, true
from sqlmodel import Session, select

from storage.models import Absence, AuditEntry, Correction, Delivery, Question, WebUser

OPEN_STATES = ("routed", "review", "reassigned")
WAITING_STATES = ("review", "quarantine")  # for a person to decide
FILTERS = ("theme", "organisation", "asking_organisation", "region", "assignee", "status")
SORTS = {  # sort key -> columns (the default first: overdue on top, then the oldest)
    "urgent": "overdue",
    "received": "received_at",
    "due": "due_on",
    "theme": "theme",
    "assignee": "assignee",
    "region": "region",
}


@dataclass(frozen=True)
class Scope:
    """The questions a person may see. Empty: all. `assignee`: only those assigned to that
    address. `organisation`: those it answers, and those waiting in review or quarantine in its
    `mailboxes`; with `region`, only that region's."""

    assignee: str | None = None
    organisation: str | None = None
    mailboxes: tuple[str, ...] = ()
    region: str | None = None

    def condition(self):
        parts = []
        if self.assignee is not None:
            parts.append(Question.assignee == self.assignee)
        if self.organisation is not None:
            waiting = and_(Question.status.in_(WAITING_STATES), Question.mailbox.in_(self.mailboxes)) \
                if self.mailboxes else false()
            parts.append(or_(Question.organisation == self.organisation, waiting))
        if self.region is not None:
            parts.append(Question.region == self.region)
        return and_(*parts) if parts else true()


def _filtered(query, scope: Scope, filters: Mapping[str, str], *, overdue_on: date | None):
    query = query.where(scope.condition())
    for key in FILTERS:
        value = filters.get(key)
        if value:
            query = query.where(getattr(Question, key) == value)
    if overdue_on is not None:
        query = query.where(Question.due_on < overdue_on)
    return query


def backlog(session: Session, *, scope: Scope, filters: Mapping[str, str], today: date, sort: str = "urgent",
            descending: bool = False, offset: int = 0, limit: int = 50,
            overdue: bool = False) -> tuple[Sequence[Question], int]:
    """One page of open questions in scope, and how many there are in all."""
    states = (filters["status"],) if filters.get("status") in OPEN_STATES else OPEN_STATES
    base = _filtered(select(Question), scope, {k: v for k, v in filters.items() if k != "status"},
                     overdue_on=today if overdue else None).where(Question.status.in_(states))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    if sort == "overdue" or sort not in SORTS or SORTS[sort] == "overdue":
        late = case((Question.due_on < today, 0), else_=1)
        order = [late, Question.received_at, Question.id]
    else:
        column = getattr(Question, SORTS[sort])
        order = [column.desc() if descending else column, Question.received_at, Question.id]
    rows = session.exec(base.order_by(*order).offset(offset).limit(limit)).all()
    return rows, total


def counts(session: Session, *, scope: Scope, filters: Mapping[str, str], today: date,
           overdue: bool = False) -> dict[str, list[tuple[str, int]]]:
    """Per filter field the values the open questions in scope have, with how many each (the
    other filters applied, so every option says what choosing it would show)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for key in FILTERS:
        others = {k: v for k, v in filters.items() if k not in (key, "status")}
        states = (filters["status"],) if key != "status" and filters.get("status") in OPEN_STATES else OPEN_STATES
        column = getattr(Question, key)
        query = _filtered(select(column, func.count()), scope, others, overdue_on=today if overdue else None)
        rows = session.exec(query.where(Question.status.in_(states)).group_by(column).order_by(column)).all()
        found[key] = [(value, n) for value, n in rows if value]
    return found


def assignees(session: Session, *, scope: Scope) -> list[str]:
    """The contact persons of the open questions in scope."""
    query = select(Question.assignee).where(scope.condition(), Question.status.in_(OPEN_STATES),
                                            Question.assignee.is_not(None)).distinct()
    return list(session.exec(query).all())


def waiting(session: Session, *, scope: Scope) -> Sequence[Question]:
    """Questions in review and quarantine in scope, oldest first."""
    query = select(Question).where(scope.condition(), Question.status.in_(WAITING_STATES))
    return session.exec(query.order_by(Question.received_at, Question.id)).all()


def visible(session: Session, *, scope: Scope, triage_id: str) -> Question | None:
    """The question with this kenmerk, if the scope holds it (otherwise as if there were none)."""
    return session.exec(select(Question).where(Question.triage_id == triage_id, scope.condition())).first()


def history(session: Session, *, question_id: int) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).where(AuditEntry.question_id == question_id)
                        .order_by(AuditEntry.at, AuditEntry.id)).all()


def deliveries(session: Session, *, question_id: int) -> Sequence[Delivery]:
    return session.exec(select(Delivery).where(Delivery.question_id == question_id).order_by(Delivery.id)).all()


def corrections(session: Session, *, question_id: int) -> Sequence[Correction]:
    return session.exec(select(Correction).where(Correction.question_id == question_id)
                        .order_by(Correction.created_at, Correction.id)).all()


def absences_ahead(session: Session, *, today: date) -> Sequence[Absence]:
    """Absences planned that have not ended, soonest first."""
    return session.exec(select(Absence).where(Absence.end >= today).order_by(Absence.start, Absence.email)).all()


# --- local accounts ----------------------------------------------------------------------
def user(session: Session, *, username: str) -> WebUser | None:
    return session.get(WebUser, username)


def users(session: Session) -> Sequence[WebUser]:
    return session.exec(select(WebUser).order_by(WebUser.username)).all()


def save_user(session: Session, *, account: WebUser) -> None:
    session.merge(account)


def remove_user(session: Session, *, username: str) -> bool:
    found = session.get(WebUser, username)
    if found is not None:
        session.delete(found)
    return found is not None
