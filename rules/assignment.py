"""Choosing the contact person for a question: the built-in step "toewijzing".

Pure: it reads the contact persons' state (open questions, absence, last assignment) as
the caller computed it for today, and returns who gets the question and why, in Dutch.
Order: a person named by a rule (or their deputy when absent); else the contact persons
of the region, then of its overflow regions, chosen by the organisation's strategy; else
the organisation's coordinator; else nobody (the question goes to review).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rules.model import COORDINATOR, Contact, Region


@dataclass(frozen=True)
class ContactState:
    """A contact person as they stand today."""

    contact: Contact
    open_questions: int = 0
    absent: bool = False  # computed by the caller for today
    last_assigned: datetime | None = None  # for round robin

    @property
    def full(self) -> bool:
        capacity = self.contact.capacity
        return capacity is not None and self.open_questions >= capacity

    @property
    def present(self) -> bool:
        return self.contact.active and not self.absent

    @property
    def can_take(self) -> bool:
        return self.present and not self.full


@dataclass(frozen=True)
class Assignment:
    assignee: str | None  # e-mail; None: nobody, the question goes to review
    region: str | None  # where the assignee was found
    notes: tuple[str, ...]  # the steps taken, in Dutch


def assign(*, organisation: str, region: Region | None, theme: str | None, strategy: str,
           contacts: Sequence[ContactState], person: str | None = None) -> Assignment:
    """Who gets the question. `person` is a rule's choice: an e-mail or "coordinator"."""
    notes: list[str] = []
    if person and person != COORDINATOR:
        chosen, note = _named_person(person, contacts)
        notes.append(note)
        if chosen:
            return Assignment(chosen.contact.email, chosen.contact.region or None, tuple(notes))
    if person != COORDINATOR and region is not None:
        found = _in_regions(organisation, region, theme, strategy, contacts)
        notes.extend(found.notes)
        if found.assignee:
            return Assignment(found.assignee, found.region, tuple(notes))
    chosen, note = _coordinator(organisation, region.name if region else None, contacts)
    notes.append(note)
    return Assignment(chosen.contact.email if chosen else None, region.name if region else None, tuple(notes))


def _in_regions(organisation: str, region: Region, theme: str | None, strategy: str,
                contacts: Sequence[ContactState]) -> Assignment:
    names = (region.name, *region.overflow)
    notes: list[str] = []
    for i, name in enumerate(names):
        eligible = [
            (position, state) for position, state in enumerate(contacts)
            if state.contact.active and not state.contact.is_coordinator
            and state.contact.organisation == organisation and state.contact.region == name
            and state.contact.handles(theme)
        ]
        chosen = _choose(eligible, strategy, contacts)
        if chosen:
            state, note = chosen
            return Assignment(state.contact.email, name, (*notes, note))
        why = _nobody(eligible, theme, name)
        notes.append(f"{why}, overloop naar {names[i + 1]}" if i + 1 < len(names) else why)
    return Assignment(None, region.name, tuple(notes))


def _choose(eligible: list[tuple[int, ContactState]], strategy: str,
            contacts: Sequence[ContactState]) -> tuple[ContactState, str] | None:
    """The strategy's pick; an absent contact's deputy stands in their place."""
    stand_ins: list[tuple[int, ContactState, ContactState | None]] = []
    for position, state in eligible:
        if state.absent:
            deputy = _deputy(state, contacts, need_room=True)
            if deputy:
                stand_ins.append((position, deputy, state))
        elif not state.full:
            stand_ins.append((position, state, None))
    if not stand_ins:
        return None
    position, chosen, absent = min(stand_ins, key=_ORDER.get(strategy, _ORDER["fewest_open"]))
    if strategy == "round_robin":
        note = "op beurt"
    elif strategy == "fixed":
        note = "vaste volgorde"
    else:
        note = f"minste openstaande vragen ({chosen.open_questions})"
    if absent:
        note = f"{absent.contact.name} afwezig, vervanger {chosen.contact.name}; {note}"
    return chosen, note


def _turn(moment: datetime | None) -> tuple[bool, float]:
    """Never assigned comes first, then the one assigned longest ago."""
    return (moment is not None, moment.timestamp() if moment else 0.0)


_ORDER = {
    "fewest_open": lambda s: (s[1].open_questions, _turn(s[1].last_assigned), s[0]),
    "round_robin": lambda s: (_turn(s[1].last_assigned), s[0]),
    "fixed": lambda s: s[0],
}


def _nobody(eligible: list[tuple[int, ContactState]], theme: str | None, region: str) -> str:
    states = [state for _, state in eligible]
    if not states:
        return f"niemand voor {theme} in {region}" if theme else f"niemand in {region}"
    if all(s.absent for s in states):
        return f"{region} afwezig"
    if all(s.full for s in states):
        return f"{region} vol"
    return f"{region} afwezig of vol"


def _deputy(state: ContactState, contacts: Sequence[ContactState], *, need_room: bool) -> ContactState | None:
    if not state.contact.deputy:
        return None
    deputy = next((s for s in contacts if s.contact.email == state.contact.deputy), None)
    if deputy is None or not deputy.present or (need_room and deputy.full):
        return None
    return deputy


def _named_person(email: str, contacts: Sequence[ContactState]) -> tuple[ContactState | None, str]:
    state = next((s for s in contacts if s.contact.email == email), None)
    if state is None or not state.contact.active:
        return None, f"{email} is geen actieve contactpersoon"
    if not state.absent:
        return state, f"naar {state.contact.name}"
    deputy = _deputy(state, contacts, need_room=False)
    if deputy:
        return deputy, f"{state.contact.name} afwezig, vervanger {deputy.contact.name}"
    return None, f"{state.contact.name} afwezig, geen vervanger"


def _coordinator(organisation: str, region: str | None,
                 contacts: Sequence[ContactState]) -> tuple[ContactState | None, str]:
    """The organisation's coordinator: of the region first, then one without a region."""
    coordinators = sorted(
        (
            (0 if state.contact.region == region else 1 if not state.contact.region else 2,
             state.open_questions, position, state)
            for position, state in enumerate(contacts)
            if state.contact.is_coordinator and state.contact.organisation == organisation and state.contact.active
        ),
        key=lambda row: row[:3],
    )
    for *_, state in coordinators:
        if not state.absent:
            return state, f"coördinator {state.contact.name}"
        deputy = _deputy(state, contacts, need_room=False)
        if deputy:
            return deputy, f"coördinator {state.contact.name} afwezig, vervanger {deputy.contact.name}"
    return None, f"geen coördinator van {organisation} beschikbaar"
