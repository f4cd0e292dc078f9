"""Loading the rules folder and the contacts file; every error names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import DEFAULT_FOLDER, RulesError, load_contacts, load_ruleset

HEADER = "name,email,organisation,region,location,themes,capacity,active,role,deputy\n"


def line_of(text: str, fragment: str) -> int:
    """The line of the last occurrence of `fragment` in `text`."""
    return text[:text.rindex(fragment)].count("\n") + 1


def packaged(name: str) -> str:
    return (DEFAULT_FOLDER / name).read_text(encoding="utf-8")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path, so error messages show paths as `rules/regions.toml`."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the packaged defaults ----------------------------------------------------------------

def test_packaged_rules_load(ruleset):
    assert list(ruleset.themes)[:2] == ["kinderbeschermingsmaatregelen", "gezag-en-omgang"]
    assert ruleset.themes["gegevensdeling"].due_days == 5
    assert ruleset.organisations == ("IND", "DT&V", "RvdK")
    assert [r.name for r in ruleset.regions_of("IND").values()] == ["Den Haag", "Den Bosch", "Zwolle"]
    assert ruleset.region("IND", "Zwolle").overflow == ("Den Haag", "Den Bosch")
    assert ruleset.default_region("RvdK").name == "Midden-Nederland"
    assert [r.name for r in ruleset.rules] == ["spoed", "voorlichting-naar-coordinator"]
    assert ruleset.strategy_of("DT&V") == "round_robin"
    assert len(ruleset.municipalities) == 342


def test_listed_municipalities_win_over_their_province(ruleset):
    assert ruleset.region_of_municipality("RvdK", "Breda") == "Breda"
    assert ruleset.region_of_municipality("RvdK", "Tilburg") == "Oost-Brabant"
    assert ruleset.region_of_municipality("RvdK", "Rotterdam") == "Rotterdam-Rijnmond"
    assert ruleset.region_of_municipality("RvdK", "Leiden") == "Haaglanden"
    assert ruleset.region_of_municipality("IND", "Breda") == "Den Bosch"


def test_every_municipality_has_a_region_for_every_organisation(ruleset):
    for organisation in ruleset.organisations:
        missing = [m for m in ruleset.municipalities if not ruleset.region_of_municipality(organisation, m)]
        assert missing == [], organisation


def test_places_file_has_the_required_tables(ruleset):
    import tomllib
    places = tomllib.loads(packaged("places.toml"))
    assert len(places["villages"]) >= 60
    assert len(places["courts"]) >= 11
    for name in ("Weesp", "Brielle", "Hellevoetsluis", "Westvoorne", "Haaren", "Landerd", "Uden", "Boxmeer",
                 "Cuijk", "Grave", "Mill en Sint Hubert", "Sint Anthonis", "Heerhugowaard", "Langedijk",
                 "Beemster", "Appingedam", "Delfzijl", "Loppersum"):
        assert name in places["merged"], name


def test_own_municipality_list_is_used_when_present(rules_folder, in_tmp):
    folder = rules_folder()
    rows = packaged("gemeenten-2025.csv").splitlines()
    (folder / "gemeenten-2025.csv").write_text(
        "\n".join(row for row in rows if ",Rotterdam," not in row) + "\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"^rules/regions\.toml:\d+: region 'Rotterdam-Rijnmond': "
                                         r"municipality 'Rotterdam' is not in gemeenten-2025\.csv"):
        load_ruleset(folder)


# --- errors in the TOML files -----------------------------------------------------------------

def test_overflow_to_an_unknown_region(rules_folder, in_tmp):
    text = packaged("regions.toml").replace('overflow = ["Den Haag", "Den Bosch"]', 'overflow = ["Den Hag"]')
    folder = rules_folder({"regions.toml": text})
    with pytest.raises(RulesError) as caught:
        load_ruleset(folder)
    line = line_of(text, 'overflow = ["Den Hag"]')
    assert str(caught.value) == f"rules/regions.toml:{line}: region 'Zwolle': overflow 'Den Hag' is not a region of IND"


def test_misspelt_province_suggests_the_right_one(rules_folder, in_tmp):
    text = packaged("regions.toml").replace('name = "Breda"\nprovinces = ["Zeeland"]',
                                            'name = "Breda"\nprovinces = ["Zeland"]')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"regions.toml": text}))
    line = line_of(text, '"Zeland"')
    assert str(caught.value) == (f"rules/regions.toml:{line}: region 'Breda': province 'Zeland' is not in "
                                 "gemeenten-2025.csv (did you mean 'Zeeland'?)")


def test_two_default_regions(rules_folder, in_tmp):
    text = packaged("regions.toml").replace('name = "Zwolle"\n', 'name = "Zwolle"\ndefault = true\n')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"regions.toml": text}))
    line = line_of(text, 'name = "Zwolle"') + 1
    assert str(caught.value) == (f"rules/regions.toml:{line}: region 'Zwolle': IND has two default regions "
                                 "(also 'Den Haag')")


def test_region_of_an_unknown_organisation(rules_folder, in_tmp):
    text = packaged("regions.toml").replace('organisation = "DT&V"\nname = "Noord"',
                                            'organisation = "DTV"\nname = "Noord"')
    with pytest.raises(RulesError, match=r"^rules/regions\.toml:\d+: region 'Noord': organisation 'DTV' is not "
                                         r"one of IND, DT&V, RvdK$"):
        load_ruleset(rules_folder({"regions.toml": text}))


def test_invalid_toml_names_the_line(rules_folder, in_tmp):
    text = packaged("routing.toml").replace('name = "spoed"', 'name = "spoed"\npriority "hoog"')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"routing.toml": text}))
    line = line_of(text, 'priority "hoog"')
    assert str(caught.value).startswith(f"rules/routing.toml:{line}: invalid TOML: ")


def test_unknown_key_in_a_rule(rules_folder, in_tmp):
    text = packaged("routing.toml") + '\n[[rule]]\nname = "typo"\nthema = "voogdij"\nreview = true\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"routing.toml": text}))
    assert str(caught.value) == f"rules/routing.toml:{line_of(text, 'thema =')}: rule 'typo': unknown key 'thema'"


def test_rule_with_an_unknown_theme(rules_folder, in_tmp):
    text = packaged("routing.toml") + '\n[[rule]]\nname = "amv"\npriority = "hoog"\ntheme = ["voogdy"]\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"routing.toml": text}))
    assert str(caught.value) == (f"rules/routing.toml:{line_of(text, 'theme = [')}: rule 'amv': theme 'voogdy' "
                                 "is not in themes.toml (did you mean 'voogdij'?)")


@pytest.mark.parametrize(("rule", "key", "message"), [
    ('priority = "dringend"', "priority", "priority: Input should be 'laag', 'normaal' or 'hoog'"),
    ('due_days = -1', "due_days", "due_days: Input should be greater than or equal to 0"),
    ('assign = "jan"', "assign", "assign: 'jan' is neither an e-mail address nor 'coordinator'"),
    ('assign_region = "Zwolle"\norganisation = "RvdK"', "assign_region",
     "assign_region 'Zwolle' is not a region of RvdK"),
    ('sender = "rvdk.example"', "sender", "sender: 'rvdk.example' is neither an address nor '@domain'"),
    ('review = true\nassign = "coordinator"', "review", "a rule that sends to review does not also assign"),
    ('min_confidence = 0.8\nmax_confidence = 0.5', "max_confidence", "max_confidence is below min_confidence"),
    ('asking_organisation = "Politie"', "asking_organisation", "asking_organisation 'Politie' is not one of"),
])
def test_invalid_rules(rules_folder, in_tmp, rule, key, message):
    text = packaged("routing.toml") + f'\n[[rule]]\nname = "fout"\n{rule}\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"routing.toml": text}))
    line = line_of(text, f"\n{key} =") + 1
    assert str(caught.value).startswith(f"rules/routing.toml:{line}: rule 'fout': {message}")


def test_duplicate_rule_names(rules_folder, in_tmp):
    text = packaged("routing.toml") + '\n[[rule]]\nname = "spoed"\npriority = "laag"\n'
    with pytest.raises(RulesError, match=r"^rules/routing\.toml:\d+: rule 'spoed': another rule has this name$"):
        load_ruleset(rules_folder({"routing.toml": text}))


def test_unknown_strategy(rules_folder, in_tmp):
    text = packaged("routing.toml").replace('RvdK = "fewest_open"', 'RvdK = "random"')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"routing.toml": text}))
    assert str(caught.value).startswith(f"rules/routing.toml:{line_of(text, 'RvdK = ')}: strategy: "
                                        "RvdK = 'random' is not one of fewest_open, round_robin, fixed")


def test_sender_with_a_region_of_another_organisation(rules_folder, in_tmp):
    text = packaged("senders.toml") + (
        '\n[[sender]]\naddress = "breda@rvdk.example"\norganisation = "RvdK"\nregion = "Zwolle"\n')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"senders.toml": text}))
    assert str(caught.value) == (f"rules/senders.toml:{line_of(text, 'region = ')}: sender 'breda@rvdk.example': "
                                 "region 'Zwolle' is not a region of RvdK")


def test_place_pointing_to_an_unknown_municipality(rules_folder, in_tmp):
    text = packaged("places.toml").replace('"Weesp" = "Amsterdam"', '"Weesp" = "Amsterdm"')
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"places.toml": text}))
    line = line_of(text, '"Weesp"')
    assert str(caught.value) == (f"rules/places.toml:{line}: merged 'Weesp': 'Amsterdm' is "
                                 "neither a municipality nor a province in gemeenten-2025.csv "
                                 "(did you mean 'Amsterdam'?)")


def test_theme_listed_twice(rules_folder, in_tmp):
    text = packaged("themes.toml") + '\n[[theme]]\nkey = "voogdij"\nname = "Nog eens"\ndue_days = 3\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(rules_folder({"themes.toml": text}))
    line = line_of(text, 'key = "voogdij"')
    assert str(caught.value) == f"rules/themes.toml:{line}: theme 'voogdij': listed twice"


def test_missing_rules_file(rules_folder, in_tmp):
    folder = rules_folder()
    (folder / "routing.toml").unlink()
    with pytest.raises(RulesError, match=r"^rules/routing\.toml: file not found$"):
        load_ruleset(folder)


def test_places_file_falls_back_to_the_packaged_one(rules_folder):
    folder = rules_folder()
    (folder / "places.toml").unlink()
    assert load_ruleset(folder).places.get("Weesp").municipalities == ("Amsterdam",)


# --- the contacts file ----------------------------------------------------------------------

def write_contacts(folder: Path, rows: str, header: str = HEADER) -> Path:
    path = folder / "contacts.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_contacts_load(ruleset, in_tmp):
    path = write_contacts(in_tmp, (
        "Anna de Vries,Anna@IND.example,IND,Zwolle,Zwolle,voogdij;strafrecht,5,ja,,piet@ind.example\n"
        "# a comment line\n"
        "Piet Jansen,piet@ind.example,IND,Den Haag,Den Haag,,8,nee,,\n"
        "Carla Smit,carla@ind.example,IND,,Den Haag,,,1,coordinator,\n"
    ))
    anna, piet, carla = load_contacts(path, ruleset)
    assert (anna.email, anna.themes, anna.capacity, anna.active, anna.role, anna.deputy, anna.line) == (
        "anna@ind.example", ("voogdij", "strafrecht"), 5, True, "contactpersoon", "piet@ind.example", 2)
    assert (piet.active, piet.themes, piet.line) == (False, (), 4)
    assert (carla.is_coordinator, carla.region, carla.capacity) == (True, "", None)


def test_contacts_with_semicolons_and_without_optional_columns(ruleset, in_tmp):
    header = "name;email;organisation;region;location;themes;capacity;active\n"
    path = write_contacts(in_tmp, "Bram;bram@rvdk.example;RvdK;Breda;Breda;voogdij;3;true\n", header)
    [bram] = load_contacts(path, ruleset)
    assert (bram.region, bram.themes, bram.role, bram.deputy) == ("Breda", ("voogdij",), "contactpersoon", None)


@pytest.mark.parametrize(("row", "message"), [
    ("Anna,anna@ind.example,IND,Zwole,Zwolle,,5,ja,,", "column 'region': 'Zwole' is not a region of IND "
                                                       "(regions: Den Haag, Den Bosch, Zwolle)"),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,,5,misschien,,", "column 'active': 'misschien' is not one of "
                                                               "ja/nee/true/false/1/0"),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,voogdy,5,ja,,", "column 'themes': 'voogdy' is not a theme in "
                                                             "themes.toml (did you mean 'voogdij'?)"),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,,veel,ja,,", "column 'capacity': "),
    ("Anna,anna-at-ind,IND,Zwolle,Zwolle,,5,ja,,", "column 'email': 'anna-at-ind' is not an e-mail address"),
    ("Anna,../../x@ind.example,IND,Zwolle,Zwolle,,5,ja,,",
     "column 'email': '../../x@ind.example' is not an e-mail address: An email address cannot start with a period"),
    ("Anna,anna@ind..example,IND,Zwolle,Zwolle,,5,ja,,", "column 'email': 'anna@ind..example' is not an e-mail"),
    ("Anna,anna@ind.example,COA,Zwolle,Zwolle,,5,ja,,", "column 'organisation': 'COA' is not one of "
                                                        "IND, DT&V, RvdK"),
    ("Anna,anna@ind.example,IND,,Zwolle,,5,ja,,", "column 'region': empty; only a coordinator may have no region"),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,,5,ja,baas,", "column 'role': "),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,,5,ja,,kees@ind.example",
     "column 'deputy': 'kees@ind.example' is not a contact in this file"),
    ("Anna,anna@ind.example,IND,Zwolle,Zwolle,,5,ja", "8 columns where the header has 10"),
])
def test_invalid_contacts_name_line_and_column(ruleset, in_tmp, row, message):
    path = write_contacts(in_tmp, "Piet,piet@ind.example,IND,Den Haag,Den Haag,,5,ja,,\n" + row + "\n")
    with pytest.raises(RulesError) as caught:
        load_contacts(path, ruleset)
    assert str(caught.value).startswith(f"contacts.csv:3: {message}")


def test_contact_listed_twice(ruleset, in_tmp):
    row = "Piet,piet@ind.example,IND,Den Haag,Den Haag,,5,ja,,\n"
    path = write_contacts(in_tmp, row + "\n" + row)
    with pytest.raises(RulesError) as caught:
        load_contacts(path, ruleset)
    assert str(caught.value) == ("contacts.csv:4: column 'email': 'piet@ind.example' is listed twice "
                                 "(also line 2)")


def test_missing_and_unknown_columns(ruleset, in_tmp):
    with pytest.raises(RulesError, match=r"^contacts\.csv:1: missing column 'capacity'$"):
        load_contacts(write_contacts(in_tmp, "", "name,email,organisation,region,location,themes,active\n"), ruleset)
    with pytest.raises(RulesError, match=r"^contacts\.csv:1: unknown column 'thema'$"):
        load_contacts(write_contacts(in_tmp, "", HEADER.strip() + ",thema\n"), ruleset)


def test_rule_that_assigns_to_someone_not_in_the_contacts(rules_folder, in_tmp):
    text = packaged("routing.toml") + '\n[[rule]]\nname = "naar-jan"\nassign = "jan@ind.example"\n'
    ruleset = load_ruleset(rules_folder({"routing.toml": text}))
    path = write_contacts(in_tmp, "Piet,piet@ind.example,IND,Den Haag,Den Haag,,5,ja,,\n")
    with pytest.raises(RulesError) as caught:
        load_contacts(path, ruleset)
    line = line_of(text, "[[rule]]")
    assert str(caught.value) == (f"rules/routing.toml:{line}: rule 'naar-jan': "
                                 "assign 'jan@ind.example' is not a contact in contacts.csv")


def test_summary_and_coverage_warnings(ruleset, person):
    assert ruleset.describe().startswith("10 thema's, 18 regio's (IND 3, DT&V 5, RvdK 10), 9 afzenders, 2 regels")
    assert ruleset.theme_name("voogdij") == "Voogdij en alleenstaande minderjarigen"
    assert ruleset.theme_name("onbekend") == "onbekend"
    assert ruleset.seed_terms()["chavez"][0] == "chavez"
    contacts = [person("Anna", themes=("voogdij",)), person("Bram", region="Den Haag", themes=("voogdij",)),
                person("Carla", region="Den Bosch", active=False)]
    warnings = ruleset.coverage_warnings(contacts)
    assert "IND regio Den Bosch: geen actieve contactpersoon" in warnings
    assert "IND regio Zwolle: geen actieve contactpersoon" not in warnings
    assert "IND: niemand behandelt thema strafrecht" in warnings
    assert "IND: niemand behandelt thema voogdij" not in warnings
    assert "IND: geen coördinator; wie niemand vindt, gaat naar beoordeling" in warnings
    assert not any(w.startswith("RvdK") for w in warnings)
