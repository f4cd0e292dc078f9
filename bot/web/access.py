"""Who may see and do what in the web console: rules that decide, kept apart from the pages.

A signed-in `Person` has one role:

    contact       a contact person: the questions assigned to their address
    coordinator   their organisation's questions (only their region's, where one is set), and
                  what waits in review or quarantine in their organisation's mailboxes
    admin         everything, and the admin pages
    reader        a SKIV member: the reports only

`PAGES` says which roles open which page; `scope` turns a person into the filter every query
of questions runs with, so a page never loads a question it may not show; `ACTIONS` says which
roles may act on a question they can see.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.console import Scope

ROLES = ("contact", "coordinator", "admin", "reader")
ROLE_NAMES = {"contact": "contactpersoon", "coordinator": "coördinator", "admin": "beheerder", "reader": "lezer (SKIV)"}

# page -> the roles that may open it (the pages of part 2 are named here already, so that the
# refusal is the same everywhere).
PAGES: dict[str, frozenset[str]] = {
    "home": frozenset(ROLES),
    "backlog": frozenset({"contact", "coordinator", "admin"}),
    "review": frozenset({"coordinator", "admin"}),
    "question": frozenset({"contact", "coordinator", "admin"}),
    "rules": frozenset({"admin"}),
    "contacts": frozenset({"coordinator", "admin"}),
    "models": frozenset({"admin"}),
    "health": frozenset({"coordinator", "admin"}),
    "reports": frozenset({"reader", "coordinator", "admin"}),
}

# action on a question -> the roles that may take it (on a question their scope holds)
ACTIONS: dict[str, frozenset[str]] = {
    "correct": frozenset({"contact", "coordinator", "admin"}),
    "answered": frozenset({"contact", "coordinator", "admin"}),
    "review": frozenset({"contact", "coordinator", "admin"}),
    "reassign": frozenset({"coordinator", "admin"}),
    "resolve": frozenset({"coordinator", "admin"}),  # a question in review or quarantine
}


@dataclass(frozen=True)
class Person:
    """Who is signed in: from a local account or from the claims of the identity provider."""

    username: str
    role: str
    organisation: str = ""
    region: str = ""
    email: str = ""
    via: str = "lokaal"  # lokaal | oidc

    def may_open(self, page: str) -> bool:
        return self.role in PAGES.get(page, frozenset())

    def may(self, action: str) -> bool:
        return self.role in ACTIONS.get(action, frozenset())

    @property
    def actor(self) -> str:
        """How the audit names this person."""
        return f"web:{self.username}"


def scope(person: Person, mailbox_organisations: dict[str, str]) -> Scope | None:
    """The questions `person` may see, as the filter every query applies; None: none at all."""
    if person.role == "admin":
        return Scope()
    if person.role == "contact":
        return Scope(assignee=person.email.lower()) if person.email else None
    if person.role == "coordinator" and person.organisation:
        mailboxes = tuple(sorted(name for name, org in mailbox_organisations.items() if org == person.organisation))
        return Scope(organisation=person.organisation, mailboxes=mailboxes, region=person.region or None)
    return None
