"""What the stages of the pipeline read besides the message: one `Context` per mailbox per poll.

`open_context` builds it the one way both the worker and `classify` use: the rules, the
model, the directory of contact persons as routing sees them today (who is absent, planned
or by automatic reply; how full each is) and the lookups screening needs (seen before? a
known question?). Reading only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

import rules
from bot.ingest.limits import ParseLimits
from bot.settings import Settings
from bot.triage.absence import absent_on
from storage import repo
from storage.db import unit_of_work

if TYPE_CHECKING:  # a model comes loaded; this module needs no scikit-learn of its own
    from classifiers import Predictor, TriageModel


@dataclass
class Directory:
    """The contact persons as routing sees them today: who is absent, how full each is."""

    contacts: list[rules.Contact]
    open_questions: dict[str, int] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    last_assigned: dict[str, datetime] = field(default_factory=dict)

    def states(self) -> list[rules.ContactState]:
        return [
            rules.ContactState(
                contact=c,
                open_questions=self.open_questions.get(c.email, 0),
                absent=c.email in self.absent,
                last_assigned=self.last_assigned.get(c.email),
            )
            for c in self.contacts
        ]

    def assigned(self, email: str, when: datetime) -> None:
        """Count a new assignment, so the next question in the same poll sees it."""
        self.open_questions[email] = self.open_questions.get(email, 0) + 1
        self.last_assigned[email] = when


@dataclass
class Context:
    """What the stages read: one per mailbox per poll."""

    mailbox: str
    mailbox_organisation: str
    ruleset: rules.RuleSet
    model: TriageModel | Predictor
    directory: Directory
    min_confidence: float
    own_addresses: frozenset[str]
    already_seen: Callable[[str], bool]  # Message-ID -> handled before?
    today: date
    shared_address: str = ""  # the mailbox's own address: a contact person's answer has it in copy
    known_question: Callable[[str], str] = lambda _message_id: ""  # Message-ID -> its question's, or ""
    question_with_kenmerk: Callable[[str], str] = lambda _kenmerk: ""  # kenmerk -> its question's Message-ID
    limits: ParseLimits = field(default_factory=ParseLimits)
    lookups: Lookups | None = None

    @contextmanager
    def reading_in(self, session: Session) -> Iterator[None]:
        """Screening's lookups read in `session` meanwhile: the transaction a mail is triaged
        and stored in (one fewer transaction per lookup, and they see what it wrote)."""
        if self.lookups is None:
            yield
            return
        self.lookups.session = session
        try:
            yield
        finally:
            self.lookups.session = None


class Lookups:
    """What screening asks the database (`engine`; None: nothing is known): each in its own
    transaction, or in the one `Context.reading_in` names."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine
        self.session: Session | None = None

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        if self.session is not None:
            yield self.session
        else:
            with unit_of_work(self.engine) as session:
                yield session

    def already_seen(self, message_id: str) -> bool:
        """Was a mail with this Message-ID handled before?"""
        if self.engine is None:
            return False
        with self._reading() as session:
            return repo.message_id_seen(session, message_id=message_id)

    def known_question(self, message_id: str) -> str:
        """The Message-ID of the question a mail with this Message-ID belongs to, or ""."""
        if self.engine is None:
            return ""
        with self._reading() as session:
            return repo.message_id_replied_to(session, message_id=message_id)

    def question_with_kenmerk(self, kenmerk: str) -> str:
        """The Message-ID of the question with this kenmerk, or ""."""
        if self.engine is None:
            return ""
        with self._reading() as session:
            return repo.message_id_with_kenmerk(session, triage_id=kenmerk)


def open_context(settings: Settings, *, config, ruleset: rules.RuleSet, contacts: list[rules.Contact],
                 model: TriageModel | Predictor, engine: Engine | None, today: date) -> Context:
    """The context for one mailbox (`config`, a `[[mailboxes]]` entry; None: no mailbox), read
    from the database when there is one."""
    directory = Directory(contacts=contacts)
    lookups = Lookups(engine)
    if engine is not None:
        with unit_of_work(engine) as session:
            directory.open_questions = repo.open_counts(session)
            directory.absent = absent_on(session, settings, contacts, today)
            directory.last_assigned = repo.last_assigned(session)
    return Context(
        mailbox=config.name if config else "classify",
        mailbox_organisation=config.organisation if config else "",
        ruleset=ruleset,
        model=model,
        directory=directory,
        min_confidence=settings.classifier.min_confidence,
        own_addresses=settings.own_addresses,
        already_seen=lookups.already_seen,
        today=today,
        shared_address=(config.address or "").lower() if config else "",
        known_question=lookups.known_question,
        question_with_kenmerk=lookups.question_with_kenmerk,
        lookups=lookups,
        limits=ParseLimits(max_bytes=settings.parsing.max_bytes, max_depth=settings.parsing.max_depth),
    )
