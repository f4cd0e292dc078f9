"""Routing decisions: admin rules, the confidence check, and every assignment path."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rules import ContactState, Facts, decide, load_ruleset

TODAY = date(2026, 3, 2)  # a Monday
QUESTION = dict(
    mailbox="ind-bvhk", mailbox_organisation="IND", sender="jurist@rvdk.example",
    theme="voogdij", theme_confidence=0.9, organisation="IND", organisation_confidence=0.9,
    asking_organisation="RvdK", region="Zwolle", region_confidence=0.9,
    text="Wie is de voogd van dit kind?", min_confidence=0.5,
)


def facts(**changes: object) -> Facts:
    return Facts(**{**QUESTION, **changes})


def state(contact, open_questions: int = 0, absent: bool = False, last: datetime | None = None) -> ContactState:
    return ContactState(contact, open_questions=open_questions, absent=absent, last_assigned=last)


@pytest.fixture
def routing(rules_folder):
    """A rule set with the given [[rule]] tables (TOML text) and strategy."""

    def make(rules: str, strategy: str = 'IND = "fewest_open"') -> object:
        return load_ruleset(rules_folder({"routing.toml": f"[strategy]\n{strategy}\n\n{rules}"}))

    return make


# --- assignment -------------------------------------------------------------------------------

def test_fewest_open_questions(ruleset, person):
    contacts = [state(person("Anna"), 3), state(person("Bram"), 1), state(person("Carla", region="Den Haag"), 0)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.rule, decision.review) == ("bram@ind.example", "toewijzing", False)
    assert decision.reason == "Thema voogdij, regio Zwolle; minste openstaande vragen (1)"
    assert decision.region == "Zwolle"


def test_absent_contact_with_a_deputy(ruleset, person):
    anna = person("Anna", deputy="dirk@ind.example")
    dirk = person("Dirk", region="Den Haag")
    contacts = [state(anna, 0, absent=True), state(dirk, 4), state(person("Eva", region="Den Haag"), 0)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "dirk@ind.example"
    assert decision.reason == ("Thema voogdij, regio Zwolle; Anna afwezig, vervanger Dirk; "
                               "minste openstaande vragen (4)")


def test_absent_deputy_does_not_stand_in(ruleset, person):
    anna = person("Anna", deputy="dirk@ind.example")
    contacts = [state(anna, absent=True), state(person("Dirk", region="Den Haag"), absent=True),
                state(person("Eva", region="Den Haag"), 7)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "eva@ind.example"
    assert decision.reason.startswith("Thema voogdij, regio Zwolle; Zwolle afwezig, overloop naar Den Haag;")


def test_absent_contact_without_a_deputy_is_skipped(ruleset, person):
    contacts = [state(person("Anna"), 0, absent=True), state(person("Bram"), 6)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "bram@ind.example"


def test_full_contact_is_skipped(ruleset, person):
    contacts = [state(person("Anna", capacity=2), 2), state(person("Bram", capacity=10), 6)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "bram@ind.example"


def test_overflow_from_zwolle_to_den_haag(ruleset, person):
    contacts = [
        state(person("Anna", capacity=3), 3),
        state(person("Bram", capacity=5), 5),
        state(person("Carla", region="Den Haag"), 2),
        state(person("Dirk", region="Den Bosch"), 0),
    ]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "carla@ind.example"
    assert decision.region == "Den Haag"
    assert decision.reason == ("Thema voogdij, regio Zwolle; Zwolle vol, overloop naar Den Haag; "
                               "minste openstaande vragen (2)")


def test_overflow_goes_on_in_order(ruleset, person):
    contacts = [state(person("Anna", capacity=1), 1), state(person("Carla", region="Den Haag", capacity=1), 1),
                state(person("Dirk", region="Den Bosch"), 9)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.region) == ("dirk@ind.example", "Den Bosch")
    assert "Zwolle vol, overloop naar Den Haag; Den Haag vol, overloop naar Den Bosch" in decision.reason


def test_only_contacts_with_the_theme_inactive_or_of_the_organisation(ruleset, person):
    contacts = [
        state(person("Anna", themes=("strafrecht",)), 0),
        state(person("Bram", active=False), 0),
        state(person("Carla", organisation="RvdK", region="IJsselland"), 0),
        state(person("Dirk", themes=("voogdij", "strafrecht")), 5),
    ]
    assert decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY).assignee == "dirk@ind.example"


def test_nobody_eligible_goes_to_the_coordinator(ruleset, person):
    contacts = [state(person("Anna", themes=("strafrecht",))),
                state(person("Kees", region="", role="coordinator"), 12)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.review, decision.rule) == ("kees@ind.example", False, "toewijzing")
    assert decision.reason == ("Thema voogdij, regio Zwolle; niemand voor voogdij in Zwolle, overloop naar Den Haag; "
                               "niemand voor voogdij in Den Haag, overloop naar Den Bosch; "
                               "niemand voor voogdij in Den Bosch; coördinator Kees")
    assert "toewijzing" in decision.hits


def test_the_regions_coordinator_comes_first(ruleset, person):
    contacts = [state(person("Kees", region="", role="coordinator")),
                state(person("Lies", region="Zwolle", role="coordinator"), 3)]
    assert decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY).assignee == "lies@ind.example"


def test_no_coordinator_goes_to_review(ruleset, person):
    contacts = [state(person("Kees", region="", role="coordinator"), absent=True),
                state(person("Piet", organisation="RvdK", region="", role="coordinator"))]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.review, decision.rule) == (None, True, "toewijzing")
    assert decision.reason.endswith("geen coördinator van IND beschikbaar; naar beoordeling")
    assert "toewijzing" in decision.misses


def test_round_robin_takes_the_one_whose_turn_it_is(routing, person):
    ruleset = routing("", 'IND = "round_robin"')
    contacts = [
        state(person("Anna"), 0, last=datetime(2026, 3, 1, 9)),
        state(person("Bram"), 5, last=datetime(2026, 2, 27, 16)),
        state(person("Carla"), 1, last=datetime(2026, 2, 28, 10)),
    ]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "bram@ind.example"
    assert decision.reason.endswith("op beurt")
    never = [*contacts, state(person("Dirk"), 9)]
    assert decide(facts(), ruleset=ruleset, contacts=never, today=TODAY).assignee == "dirk@ind.example"


def test_fixed_takes_the_first_in_file_order(routing, person):
    ruleset = routing("", 'IND = "fixed"')
    contacts = [state(person("Anna", capacity=2), 2), state(person("Bram"), 8), state(person("Carla"), 0)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "bram@ind.example"
    assert decision.reason.endswith("vaste volgorde")


def test_no_place_uses_the_default_region(ruleset, person):
    contacts = [state(person("Anna")), state(person("Carla", region="Den Haag"))]
    decision = decide(facts(region=None), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert decision.assignee == "carla@ind.example"
    assert decision.reason.startswith("Thema voogdij, regio Den Haag (standaard, geen plaats gevonden);")


# --- the confidence check ---------------------------------------------------------------------

def test_low_theme_confidence_goes_to_review(ruleset, person):
    decision = decide(facts(theme_confidence=0.42), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.assignee, decision.review, decision.rule) == (None, True, "zekerheid")
    assert decision.reason == "Thema voogdij, regio Zwolle; thema onzeker (0.42 < 0.50); naar beoordeling"
    assert "zekerheid" in decision.hits
    assert "toewijzing" not in decision.hits + decision.misses


def test_no_theme_goes_to_review(ruleset, person):
    decision = decide(facts(theme=None, theme_confidence=0.0), ruleset=ruleset,
                      contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.review, decision.rule, decision.due_days) == (True, "zekerheid", None)


def test_uncertain_move_to_another_organisation_goes_to_review(ruleset, person):
    rvdk = state(person("Rob", organisation="RvdK", region="IJsselland"))
    moved = facts(organisation="RvdK", organisation_confidence=0.3, region="IJsselland")
    assert decide(moved, ruleset=ruleset, contacts=[rvdk], today=TODAY).review
    sure = facts(organisation="RvdK", organisation_confidence=0.8, region="IJsselland")
    assert decide(sure, ruleset=ruleset, contacts=[rvdk], today=TODAY).assignee == "rob@ind.example"


def test_sure_question_passes_the_confidence_check(ruleset, person):
    decision = decide(facts(), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert "zekerheid" in decision.misses


# --- admin rules ------------------------------------------------------------------------------

RULES = """
[[rule]]
name = "strafrecht"
theme = "strafrecht"
priority = "hoog"

[[rule]]
name = "van-de-raad"
sender = "@rvdk.example"
copy = ["skiv@ind.example"]
due_days = 3

[[rule]]
name = "spoed"
words = ["met spoed", "urgent"]
priority = "hoog"
due_days = 1
stop = true

[[rule]]
name = "alles"
priority = "laag"
"""


def test_every_rule_read_is_a_hit_or_a_miss(routing, person):
    ruleset = routing(RULES)
    decision = decide(facts(), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert decision.hits == ("van-de-raad", "alles", "toewijzing")
    assert decision.misses == ("strafrecht", "spoed", "zekerheid")


def test_stop_ends_the_rules(routing, person):
    ruleset = routing(RULES)
    decision = decide(facts(text="Graag met  spoed antwoord."), ruleset=ruleset,
                      contacts=[state(person("Anna"))], today=TODAY)
    assert decision.hits == ("van-de-raad", "spoed", "toewijzing")
    assert "alles" not in decision.hits + decision.misses
    assert (decision.priority, decision.due_days) == ("hoog", 1)


def test_copy_priority_and_due_days(routing, person):
    ruleset = routing(RULES)
    decision = decide(facts(sender="Jurist <jurist@breda.RVDK.example>"), ruleset=ruleset,
                      contacts=[state(person("Anna"))], today=TODAY)
    assert decision.copy_to == ("skiv@ind.example",)
    assert decision.priority == "laag"  # the later rule "alles" overrides
    assert decision.due_days == 3
    assert decision.due_date == date(2026, 3, 5)


def test_theme_due_days_without_a_rule(ruleset, person):
    decision = decide(facts(theme="gegevensdeling"), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.due_days, decision.due_date, decision.priority) == (5, date(2026, 3, 9), "normaal")


def test_rule_assigns_a_person_or_their_deputy(routing, person):
    ruleset = routing('[[rule]]\nname = "chavez-naar-anna"\ntheme = "chavez"\nassign = "anna@ind.example"\n')
    anna = person("Anna", region="Den Haag", deputy="bram@ind.example")
    contacts = [state(anna, 50), state(person("Bram"), 3), state(person("Carla"), 0)]
    decision = decide(facts(theme="chavez"), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.rule) == ("anna@ind.example", "chavez-naar-anna")
    assert decision.reason == "Thema chavez, regio Zwolle; regel chavez-naar-anna; naar Anna"
    away = [state(anna, absent=True), *contacts[1:]]
    assert decide(facts(theme="chavez"), ruleset=ruleset, contacts=away, today=TODAY).assignee == "bram@ind.example"


def test_rule_assigns_a_region(routing, person):
    ruleset = routing('[[rule]]\nname = "zwolle-ontlasten"\nregion = "Zwolle"\nassign_region = "Den Bosch"\n')
    contacts = [state(person("Anna")), state(person("Dirk", region="Den Bosch"), 4)]
    decision = decide(facts(), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.rule, decision.region) == ("dirk@ind.example", "zwolle-ontlasten", "Den Bosch")
    assert decision.reason == ("Thema voogdij, regio Zwolle; regel zwolle-ontlasten: regio Den Bosch; "
                               "minste openstaande vragen (4)")


def test_rule_assigns_the_coordinator(ruleset, person):
    contacts = [state(person("Anna")), state(person("Kees", region="", role="coordinator"))]
    decision = decide(facts(theme="voorlichting"), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert (decision.assignee, decision.rule) == ("kees@ind.example", "voorlichting-naar-coordinator")
    assert decision.hits == ("voorlichting-naar-coordinator", "toewijzing")
    assert decision.misses == ("spoed", "zekerheid")


def test_rule_sends_to_review(routing, person):
    ruleset = routing('[[rule]]\nname = "advocaten"\nasking_organisation = "advocatuur"\nreview = true\n')
    decision = decide(facts(asking_organisation="advocatuur"), ruleset=ruleset,
                      contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.assignee, decision.review, decision.rule) == (None, True, "advocaten")
    assert decision.reason == "Thema voogdij, regio Zwolle; regel advocaten; naar beoordeling"


@pytest.mark.parametrize(("condition", "changes", "hits"), [
    ('mailbox = ["ind-bvhk", "ind-test"]', {}, True),
    ('mailbox = "dtv-bvhk"', {}, False),
    ('organisation = "IND"', {}, True),
    ('region = ["Den Haag", "Den Bosch"]', {}, False),
    ('sender = "jurist@rvdk.example"', {}, True),
    ('sender = "@ind.example"', {}, False),
    ('words = ["voogd"]', {}, True),
    ('words = ["voog"]', {}, False),
    ('min_confidence = 0.9', {}, True),
    ('min_confidence = 0.95', {}, False),
    ('max_confidence = 0.7', {"theme_confidence": 0.6}, True),
    ('max_confidence = 0.7', {}, False),
    ('theme = ["voogdij", "strafrecht"]\nasking_organisation = "RvdK"', {}, True),
    ('theme = ["voogdij", "strafrecht"]\nasking_organisation = "Nidos"', {}, False),
])
def test_conditions(routing, person, condition, changes, hits):
    ruleset = routing(f'[[rule]]\nname = "r"\n{condition}\npriority = "hoog"\n')
    decision = decide(facts(**changes), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert ("r" in decision.hits) is hits
    assert decision.priority == ("hoog" if hits else "normaal")


def test_rule_region_of_another_organisation_is_ignored_with_a_note(routing, person):
    ruleset = routing('[[rule]]\nname = "naar-breda"\nassign_region = "Breda"\n')
    decision = decide(facts(), ruleset=ruleset, contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.assignee, decision.region) == ("anna@ind.example", "Zwolle")
    assert "regel naar-breda: Breda is geen regio van IND" in decision.reason


def test_packaged_urgent_rule(ruleset, person):
    decision = decide(facts(text="Dit is spoedeisend: de overdracht is morgen."), ruleset=ruleset,
                      contacts=[state(person("Anna"))], today=TODAY)
    assert (decision.hits[0], decision.priority, decision.due_date) == ("spoed", "hoog", date(2026, 3, 4))


def test_an_urgent_question_the_classifier_is_unsure_about_goes_to_the_coordinator_not_review(ruleset, person):
    contacts = [state(person("Anna")), state(person("Eva", role="coordinator", region=""))]
    unsure = dict(theme="dublin-en-nareis", theme_confidence=0.30)
    decision = decide(facts(**unsure, text="SPOED: overdracht Dublin morgen"), ruleset=ruleset, contacts=contacts,
                      today=TODAY)
    assert not decision.review and decision.assignee == "eva@ind.example"
    assert decision.rule == "spoed" and decision.priority == "hoog"
    assert "zekerheid" in decision.hits and "spoed" in decision.hits
    assert "naar de coördinator in plaats van beoordeling" in decision.reason
    calm = decide(facts(**unsure, text="overdracht Dublin"), ruleset=ruleset, contacts=contacts, today=TODAY)
    assert calm.review and calm.assignee is None  # not urgent: review as before
