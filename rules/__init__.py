"""Routing data and decisions: themes, regions, contact persons, rules and due dates.

Works on plain records; imports nothing from bot/, classifiers/ or storage/.

    ruleset = load_ruleset(Path("rules"))            # validated; RulesError names file:line
    contacts = load_contacts(Path("contacts.csv"), ruleset)
    found = resolve_region(organisation="IND", text=question, signature=signature,
                           sender=sender, ruleset=ruleset)
    decision = decide(facts, ruleset=ruleset, contacts=states, today=today)
"""

from rules.assignment import ContactState
from rules.calendar import due_date, is_working_day
from rules.contacts import load_contacts
from rules.data import DEFAULT_FOLDER, load_ruleset
from rules.engine import Decision, Facts, decide
from rules.model import ORGANISATIONS, Contact, RulesError, Sender, Theme
from rules.regions import RegionResult, known_sender, resolve_region
from rules.ruleset import RuleSet

__all__ = [
    "DEFAULT_FOLDER",
    "ORGANISATIONS",
    "Contact",
    "ContactState",
    "Decision",
    "Facts",
    "RegionResult",
    "RuleSet",
    "RulesError",
    "Sender",
    "Theme",
    "decide",
    "due_date",
    "is_working_day",
    "known_sender",
    "load_contacts",
    "load_ruleset",
    "resolve_region",
]
