"""Region resolution: signature, sender, place names in the text, ambiguity."""

from __future__ import annotations

import pytest

from rules import known_sender, load_ruleset, resolve_region


def region(ruleset, text: str, organisation: str = "IND", **more):
    return resolve_region(organisation=organisation, text=text, ruleset=ruleset, **more)


@pytest.fixture
def with_senders(rules_folder):
    """The packaged rules plus senders that carry a region."""
    senders = (rules_folder()).joinpath("senders.toml").read_text(encoding="utf-8") + """
[[sender]]
address = "jurist.breda@rvdk.example"
organisation = "RvdK"
region = "Breda"

[[sender]]
domain = "zwolle.ind.example"
organisation = "IND"
region = "Zwolle"
"""
    return load_ruleset(rules_folder({"senders.toml": senders}))


# --- place names ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "organisation", "expected", "place"), [
    ("Het kind woont in Den Haag.", "IND", "Den Haag", "'s-Gravenhage"),
    ("Het kind woont in 's-Gravenhage.", "RvdK", "Haaglanden", "'s-Gravenhage"),
    ("Het gezin woont in Den Bosch.", "IND", "Den Bosch", "'s-Hertogenbosch"),
    ("Het gezin woont in Den Bosch.", "RvdK", "Oost-Brabant", "'s-Hertogenbosch"),
    ("Moeder woont in Hengelo.", "RvdK", "IJsselland", "Hengelo (O.)"),
    ("Vader verblijft in Middelburg.", "DT&V", "West", "Middelburg (Z.)"),
    ("De jongen woont in Rijswijk.", "RvdK", "Haaglanden", "Rijswijk (ZH.)"),
    ("het gezin woont in rotterdam", "RvdK", "Rotterdam-Rijnmond", "Rotterdam"),
    ("Het gezin woont in Sudwest-Fryslan.", "DT&V", "Noord", "Súdwest-Fryslân"),
])
def test_everyday_and_official_names(ruleset, text, organisation, expected, place):
    found = region(ruleset, text, organisation)
    assert (found.region, found.place, found.candidates) == (expected, place, (expected,))
    assert found.confidence == 0.8


@pytest.mark.parametrize(("text", "organisation", "expected", "place"), [
    ("Het gezin woont in Weesp.", "RvdK", "Noord-Holland", "Amsterdam"),
    ("Moeder woont in Brielle.", "RvdK", "Rotterdam-Rijnmond", "Voorne aan Zee"),
    ("Het kind staat ingeschreven in Hellevoetsluis.", "RvdK", "Rotterdam-Rijnmond", "Voorne aan Zee"),
    ("Vader woont in Westvoorne.", "DT&V", "West", "Voorne aan Zee"),
    ("Het gezin komt uit Uden.", "RvdK", "Oost-Brabant", "Maashorst"),
    ("Het gezin komt uit Boxmeer.", "IND", "Den Bosch", "Land van Cuijk"),
    ("Het gezin woont in Heerhugowaard.", "RvdK", "Noord-Holland", "Dijk en Waard"),
    ("Het gezin woont in Beemster.", "RvdK", "Noord-Holland", "Purmerend"),
    ("Het kind woont in Delfzijl.", "RvdK", "Noord-Nederland", "Eemsdelta"),
])
def test_merged_municipalities(ruleset, text, organisation, expected, place):
    found = region(ruleset, text, organisation)
    assert (found.region, found.place) == (expected, place)


def test_a_split_municipality_within_one_region_is_not_ambiguous(ruleset):
    found = region(ruleset, "Het gezin woont in Haaren.", "RvdK")
    assert (found.region, found.candidates, found.confidence) == ("Oost-Brabant", ("Oost-Brabant",), 0.8)
    assert "Oisterwijk, Vught, Tilburg of Boxtel" in found.reason


@pytest.mark.parametrize(("text", "organisation", "expected", "place"), [
    ("Het gezin verblijft in Scheveningen.", "IND", "Den Haag", "'s-Gravenhage"),
    ("Het gezin woont in Hoogvliet.", "RvdK", "Rotterdam-Rijnmond", "Rotterdam"),
    ("Het kind woont in Vleuten.", "RvdK", "Midden-Nederland", "Utrecht"),
    ("Hij zit in het aanmeldcentrum Ter Apel.", "IND", "Zwolle", "Westerwolde"),
    ("Het gezin woont in Budel.", "DT&V", "Zuid", "Cranendonck"),
    ("Het gezin woont in Veghel.", "RvdK", "Oost-Brabant", "Meierijstad"),
    ("Het gezin woont in Drachten.", "RvdK", "Noord-Nederland", "Smallingerland"),
    ("Het gezin woont in Hoofddorp.", "RvdK", "Noord-Holland", "Haarlemmermeer"),
    ("Het gezin woont in Den Dolder.", "RvdK", "Midden-Nederland", "Zeist"),
])
def test_villages(ruleset, text, organisation, expected, place):
    found = region(ruleset, text, organisation)
    assert (found.region, found.place) == (expected, place)


@pytest.mark.parametrize(("court", "seat"), [
    ("rechtbank Gelderland", "Arnhem"),
    ("rechtbank Den Haag", "'s-Gravenhage"),
    ("rechtbank Oost-Brabant", "'s-Hertogenbosch"),
    ("rechtbank Zeeland-West-Brabant", "Breda"),
    ("rechtbank Noord-Nederland", "Groningen"),
    ("rechtbank Overijssel", "Zwolle"),
    ("rechtbank Midden-Nederland", "Utrecht"),
    ("rechtbank Noord-Holland", "Haarlem"),
    ("rechtbank Amsterdam", "Amsterdam"),
    ("rechtbank Rotterdam", "Rotterdam"),
    ("rechtbank Limburg", "Maastricht"),
])
def test_courts_stand_for_their_seat(ruleset, court, seat):
    found = region(ruleset, f"De zitting is bij de {court} gepland.", "RvdK")
    assert found.place == seat
    assert found.region == ruleset.region_of_municipality("RvdK", seat)
    assert court in found.reason


def test_a_municipality_outweighs_a_province(ruleset):
    found = region(ruleset, "Het gezin verhuisde binnen Gelderland en woont nu in Zwolle.", "RvdK")
    assert (found.region, found.candidates) == ("IJsselland", ("IJsselland",))


def test_a_province_alone_is_less_certain(ruleset):
    found = region(ruleset, "Het gezin woont ergens in Limburg.", "RvdK")
    assert (found.region, found.confidence) == ("Limburg", 0.6)
    found = region(ruleset, "De zaak speelt in Friesland.", "DT&V")
    assert (found.region, found.place, found.confidence) == ("Noord", "Fryslân", 0.6)


def test_a_place_named_twice_is_more_certain(ruleset):
    assert region(ruleset, "Zwolle. Nogmaals: Zwolle.").confidence == 0.9


# --- names that are also words ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "ik ben de beste",
    "het is echt zo",
    "Ik doe mijn best.",
    "Het is echt zo. Best is om snel te antwoorden.",
    "Echt waar, dit moet snel.",
    "ede",
    "Dit kan leiden tot problemen.",
    "De houten deur van de huizen.",
    "Mevrouw Van Beek belde.",
    "Gesproken met J. van Dongen.",
    "Mail naar jan@rotterdam.nl of kijk op www.zwolle.nl",
])
def test_words_that_are_no_place(ruleset, text):
    found = region(ruleset, text)
    assert (found.region, found.confidence, found.candidates) == (None, 0.0, ())


@pytest.mark.parametrize(("text", "place"), [
    ("Het gezin woont in Ede.", "Ede"),
    ("Het gezin is verhuisd naar\nBest vorige maand.", "Best"),
    ("De moeder woont sinds maart in Echt.", "Echt-Susteren"),
    ("Het gaat om een gezin uit Leiden.", "Leiden"),
    ("Locatie: Oss", "Oss"),
])
def test_capitalised_place_names_that_are_also_words(ruleset, text, place):
    assert region(ruleset, text).place == place


# --- signature and sender ---------------------------------------------------------------------

def test_signature_region_of_the_askers_organisation(ruleset):
    signature = "Met vriendelijke groet,\nJan de Boer\nRaad voor de Kinderbescherming, regio Breda"
    rvdk = region(ruleset, "Een vraag over een kind.", "RvdK", signature=signature)
    assert (rvdk.region, rvdk.confidence) == ("Breda", 0.9)
    ind = region(ruleset, "Een vraag over een kind.", "IND", signature=signature)
    assert (ind.region, ind.confidence) == ("Den Bosch", 0.9)
    assert "handtekening" in ind.reason


def test_signature_wins_over_the_text(ruleset):
    found = region(ruleset, "Het kind woont in Zwolle.", signature="IND, locatie Den Haag")
    assert found.region == "Den Haag"


def test_region_name_that_is_no_place_counts_only_after_a_keyword(ruleset):
    assert region(ruleset, "Vraag uit regio Oost.", "DT&V").region == "Oost"
    assert region(ruleset, "De wijk Oost van de stad.", "DT&V").region is None
    assert region(ruleset, "", "RvdK", signature="RvdK Haaglanden").region == "Haaglanden"
    assert region(ruleset, "", "IND", signature="RvdK Haaglanden").region == "Den Haag"


def test_sender_address_with_a_region(with_senders):
    found = region(with_senders, "Het kind woont in Zwolle.", "RvdK", sender="Jurist <Jurist.Breda@rvdk.example>")
    assert (found.region, found.confidence) == ("Breda", 0.85)


def test_sender_domain_region_only_when_no_place_is_found(with_senders):
    sender = "medewerker@zwolle.ind.example"
    assert region(with_senders, "Het kind woont in Den Haag.", "IND", sender=sender).region == "Den Haag"
    found = region(with_senders, "Een vraag zonder plaats.", "IND", sender=sender)
    assert (found.region, found.confidence) == ("Zwolle", 0.5)


def test_nothing_found(ruleset):
    found = region(ruleset, "Een vraag zonder plaats.", sender="iemand@nergens.example")
    assert (found.region, found.confidence, found.place, found.candidates) == (None, 0.0, None, ())


def test_known_sender_address_wins_over_domain(with_senders):
    assert known_sender("jurist.breda@rvdk.example", with_senders).address == "jurist.breda@rvdk.example"
    assert known_sender("Iemand <iemand@rvdk.example>", with_senders).domain == "rvdk.example"
    assert known_sender("iemand@den-haag.rvdk.example", with_senders).domain == "rvdk.example"
    assert known_sender("iemand@zwolle.ind.example", with_senders).region == "Zwolle"
    assert known_sender("iemand@notrvdk.example", with_senders) is None
    assert known_sender("", with_senders) is None


# --- ambiguity ------------------------------------------------------------------------------

def test_two_regions_the_most_mentioned_wins_with_lower_confidence(ruleset):
    found = region(ruleset, "Vader woont in Zwolle, moeder in Leiden, het kind in Deventer.")
    assert found.region == "Zwolle"
    assert found.candidates == ("Zwolle", "Den Haag")
    assert found.ambiguous
    assert 0 < found.confidence < 0.8
    assert found.reason.startswith("Meerdere regio's in de tekst:")


def test_a_tie_is_reported_and_the_senders_region_breaks_it(ruleset, with_senders):
    text = "Vader woont in Zwolle, moeder in Den Haag."
    tie = region(ruleset, text)
    assert (tie.region, tie.candidates) == ("Zwolle", ("Zwolle", "Den Haag"))
    assert "als eerste genoemd" in tie.reason
    broken = region(with_senders, text, "RvdK", sender="jurist.breda@rvdk.example")
    assert broken.region == "Breda"  # the sender's address region comes before the text
    by_domain = region(with_senders, "Vader woont in Den Haag, moeder in Zwolle.", sender="a@zwolle.ind.example")
    assert (by_domain.region, by_domain.candidates) == ("Zwolle", ("Zwolle", "Den Haag"))
    assert "de regio van de afzender" in by_domain.reason


def test_a_name_two_places_share_is_ambiguous(ruleset):
    found = region(ruleset, "Het gezin woont in Bergen.")
    assert set(found.candidates) == {"Den Bosch", "Den Haag"}
    assert found.confidence < 0.5
    assert "Bergen (L.)" in found.reason and "Bergen (NH.)" in found.reason


def test_the_place_index_is_compiled_once_per_ruleset(ruleset):
    index = ruleset.places
    region(ruleset, "Den Haag")
    assert ruleset.places is index
    assert len(index) > 600


def test_a_province_after_a_split_municipality_does_not_weaken_it(ruleset):
    found = region(ruleset, "Het gezin woont in Haaren, in Noord-Brabant. Vader woont in Limburg.", "RvdK")
    assert (found.region, found.candidates) == ("Oost-Brabant", ("Oost-Brabant",))
