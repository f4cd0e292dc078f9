"""Redaction of personal data in Dutch mail, and the text the models see."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.text import PLACEHOLDERS, complete_bsn, is_bsn, normalise, prepare, redact
from classifiers import text as text_module
from tests import planted
from tests.bsn import complete

VALID_BSN = "111222333"  # 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66 = 6*11
INVALID_BSN = "123456789"  # eleven-test sum 156, not a multiple of 11


def test_eleven_test():
    assert is_bsn(VALID_BSN)
    assert is_bsn("123456782")
    assert is_bsn("1234.56.782")
    assert not is_bsn(INVALID_BSN)
    assert not is_bsn("000000000")
    assert not is_bsn("12345")


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"Het BSN van het kind is {VALID_BSN}.", "Het BSN van het kind is [BSN]."),
        ("kind met bsn 1234.56.782 woont in Breda", "kind met bsn [BSN] woont in Breda"),
        ("nummer 123 456 782 klopt", "nummer [BSN] klopt"),
        ("burgerservicenummer: 123456782", "burgerservicenummer: [BSN]"),
        (f"het kind ({VALID_BSN}) en de moeder", "het kind ([BSN]) en de moeder"),
    ],
)
def test_valid_bsn_is_redacted(text, expected):
    assert redact(text) == expected


def test_invalid_bsn_stays():
    # Nine digits failing the eleven-test are no BSN: a case number, an amount.
    text = f"Zaaknummer {INVALID_BSN} is bij ons bekend."
    assert redact(text) == text


def test_mistyped_bsn_after_its_keyword_is_still_redacted():
    assert redact(f"BSN: {INVALID_BSN}") == "BSN: [BSN]"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("V-nummer 2612345678 is bekend", "V-nummer [VNUMMER] is bekend"),
        ("v-nr: 26 1234 5678.", "v-nr: [VNUMMER]."),
        ("vnr.2612345678", "vnr.[VNUMMER]"),
        ("vreemdelingennummer 3012345678", "vreemdelingennummer [VNUMMER]"),
        ("zijn nummer is 2612345678.", "zijn nummer is [VNUMMER]."),
    ],
)
def test_v_number(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "NL91 ABNA 0417 1643 00",
        "NL91ABNA0417164300",
        "nl91abna0417164300",
        "DE89 3704 0044 0532 0130 00",
        "BE68539007547034",
    ],
)
def test_iban(text):
    assert redact(f"Rekening {text} graag.") == "Rekening [IBAN] graag."


def test_foreign_code_failing_the_iban_check_stays():
    assert redact("code DE89370400440532013001") == "code DE89370400440532013001"


@pytest.mark.parametrize(
    "phone",
    [
        "06-12345678",
        "0612345678",
        "06 12 34 56 78",
        "06-123 456 78",
        "070-1234567",
        "020 123 4567",
        "(070) 123 45 67",
        "(0546) 123456",
        "+31 6 12345678",
        "+31 (0)70 123 45 67",
        "+31612345678",
        "0031 20 1234567",
        "+32 470 12 34 56",
        "+49 30 1234567",
    ],
)
def test_phone(phone):
    assert redact(f"Bel mij op {phone}, dank.") == "Bel mij op [TELEFOON], dank."


@pytest.mark.parametrize("address", ["j.deboer@rvdk.nl", "info+bvhk@ind.example", "A.B.El-Amrani@dtv.minjus.nl"])
def test_email(address):
    assert redact(f"Mail naar {address}.") == "Mail naar [EMAIL]."


@pytest.mark.parametrize(
    "date",
    ["12-03-2015", "1-3-2015", "12/03/2015", "12.03.2015", "12-03-15", "2015-03-12",
     "3 maart 2015", "3 mrt. 2015", "1 januari 2010", "21 SEPTEMBER 2009", "3e april 2012"],
)
def test_dates(date):
    assert redact(f"Geboren op {date} in Eritrea.") == "Geboren op [DATUM] in Eritrea."


def test_numbers_that_are_no_dates_stay():
    text = "Zie paragraaf 1.2.10 en 3.4, in mei 2022, artikel 8 EVRM, B13 Vc, 28 dagen."
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Beste Anna,\nIk heb een vraag.", "Beste [NAAM],\nIk heb een vraag."),
        ("Geachte heer De Vries,\n", "Geachte heer [NAAM],\n"),
        ("Geachte mevrouw van der Berg-Jansen,", "Geachte mevrouw [NAAM],"),
        ("Hoi Piet\nweet jij dit?", "Hoi [NAAM]\nweet jij dit?"),
        ("Goedemorgen Fatima El Amrani,", "Goedemorgen [NAAM],"),
        ("Beste Anna en Piet,", "Beste [NAAM],"),
        ("> Beste Joost,", "> Beste [NAAM],"),
        ("Ik sprak mevrouw Jansen gisteren.", "Ik sprak mevrouw [NAAM] gisteren."),
        ("Volgens dhr. Yılmaz en mw. Özdemir-de Wit klopt het.", "Volgens dhr. [NAAM] en mw. [NAAM] klopt het."),
        ("de advocaat, mr. J.P. de Boer, vraagt", "de advocaat, mr. [NAAM], vraagt"),
        ("Mijn naam is Sanne Bakker en ik werk bij de IND.", "Mijn naam is [NAAM] en ik werk bij de IND."),
        ("De moeder Fatima Yilmaz en haar zoon Ahmed wonen in Breda.",
         "De moeder [NAAM] en haar zoon [NAAM] wonen in Breda."),
        ("Mijn collega Petra de Wit weet meer.", "Mijn collega [NAAM] weet meer."),
        ("Het kind Ahmed is 7.", "Het kind [NAAM] is 7."),
    ],
)
def test_names_after_greetings_and_titles(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Met vriendelijke groet,\nJan de Boer\nRaadsonderzoeker", "Met vriendelijke groet,\n[NAAM]\nRaadsonderzoeker"),
        ("Met vriendelijke groet,\n\nJ.P. van der Berg | Contactpersoon BvhK",
         "Met vriendelijke groet,\n\n[NAAM] | Contactpersoon BvhK"),
        ("Groet,\nAnouk", "Groet,\n[NAAM]"),
        ("Groet, Kees", "Groet, [NAAM]"),
        ("Mvg,\nHenk Jansen - hoor- en beslismedewerker", "Mvg,\n[NAAM] - hoor- en beslismedewerker"),
        ("Hoogachtend,\nmr. B. Hendriks", "Hoogachtend,\nmr. [NAAM]"),
        ("> Van: Jan de Boer <jan@ind.nl>", "> Van: [NAAM] <[EMAIL]>"),
        ("Op 3 maart 2025 schreef Fatima El Amrani <f@dtv.nl>:", "Op [DATUM] schreef [NAAM] <[EMAIL]>:"),
    ],
)
def test_names_in_signatures_and_headers(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Beste collega's,\nIk heb een vraag.",
        "Geachte heer/mevrouw,\nDe vraag gaat over de OTS.",
        "Hoi allemaal,",
        "Met vriendelijke groet,\nRaad voor de Kinderbescherming",
        "Met vriendelijke groet,\nIND Zwolle",
        "Aan: Functionele mailbox BvhK",
        "De heer en mevrouw zijn beiden aanwezig.",
        "Groeten uit Breda en een fijne dag.",
        "De moeder spreekt Nederlands en de vader Arabisch.",
        "Beste Nidos,\nDe pupil Nidos noemt ook Jeugdbescherming Brabant.",
        "Het kind. Daarna komt de vader IND-locatie Zwolle binnen.",
    ],
)
def test_no_names_no_change(text):
    assert redact(text) == text


def test_whole_mail():
    mail = (
        "Beste Marieke,\n\n"
        "Het gaat om Ahmed (geb. 03-04-2014, BSN 1234.56.782, V-nummer 2612345678). De moeder,\n"
        "mevrouw Haddou, is bereikbaar op 06-12345678 of haddou@example.com; IBAN NL91ABNA0417164300.\n\n"
        "Met vriendelijke groet,\nJoost Smit\nGezinsvoogd, Jeugdbescherming Brabant\n"
    )
    redacted = redact(mail)
    for secret in ("Marieke", "03-04-2014", "1234.56.782", "2612345678", "Haddou", "06-12345678",
                   "haddou@example.com", "NL91", "Joost", "Smit"):
        assert secret not in redacted
    assert "Jeugdbescherming Brabant" in redacted  # the office stays: it tells who asks
    # No cue names Ahmed: a known limit, kept visible here.
    assert "Ahmed" in redacted


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdeABCDE 0123456789.-,:@+\n")), max_size=80))
def test_redact_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=8, max_size=8), st.sampled_from(["", ".", " "]))
def test_every_valid_bsn_is_redacted_in_running_text(first_eight, separator):
    digits = complete(first_eight)
    if digits is None:
        return  # no ninth digit makes these valid
    assert is_bsn(digits)
    written = separator.join([digits[:4], digits[4:6], digits[6:]]) if separator else digits
    redacted = redact(f"het kind met nummer {written} woont in Breda")
    assert redacted == "het kind met nummer [BSN] woont in Breda"


def test_random_prose_without_personal_data_is_left_alone():
    words = "de het een kind vader moeder voogdij ots uithuisplaatsing vraag aan raad ind is niet".split()
    rng = random.Random(1)
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(12))
        assert redact(text) == text


@pytest.mark.parametrize("text", ["a." * 50_000, "1 " * 50_000, "Beste " + "Anna " * 20_000, "06-" * 30_000])
def test_long_hostile_input_is_quick(text):
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 2.0


def test_prepare_lowercases_after_redaction():
    prepared = prepare("Vraag over OTS", "Beste Anna,\n\n\n\nHet  gaat om een OTS. BSN 111222333.")
    assert prepared == "vraag over ots\n\nbeste [naam],\n\nhet gaat om een ots. bsn [bsn]."
    assert normalise(prepared) == prepared


def test_placeholders_are_the_documented_ones():
    assert set(PLACEHOLDERS) == {"[BSN]", "[VNUMMER]", "[IBAN]", "[TELEFOON]", "[EMAIL]", "[DATUM]", "[NAAM]",
                                 "[ADRES]", "[POSTCODE]", "[PLAATS]"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("woonachtig Kerkstraat 12, 3511 AB Utrecht", "woonachtig [ADRES], [POSTCODE] Utrecht"),
        ("adres: Van Limburg Stirumlaan 4-II, 2012AB", "adres: [ADRES]-II, [POSTCODE]"),
        ("Naam kind: Amira Haddad\nGeboren in Syrië", "Naam kind: [NAAM]\nGeboren in Syrië"),
        ("Cliënt: Youssef El Amrani, 14 jaar", "Cliënt: [NAAM], 14 jaar"),
        ("Betreft: Noor en Sem de Wit", "Betreft: [NAAM]"),
    ],
)
def test_addresses_postcodes_and_labelled_names(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["artikel 8 EVRM en de Vreemdelingenwet 2000", "in 2024 EU-breed",
                                  "de Vw 2000 AB-procedure", "betreft: de aanvraag van moeder"])
def test_law_and_years_are_no_postcodes_or_names(text):
    assert redact(text) == text


def test_health_conditions_reach_no_model_as_words():
    assert "diabetes" not in normalise("Het kind heeft diabetes en ADHD. Wat nu?")
    assert "[gezondheid]" in normalise("Het kind heeft diabetes en ADHD. Wat nu?")


def test_complete_bsn_adds_the_check_digit_or_says_there_is_none():
    assert complete_bsn("12345678") == "123456782"
    assert complete_bsn("11122233") == "111222333"
    assert complete_bsn("00000000") is None
    for first_eight in ("12345679", "98765432", "55555555"):
        assert complete_bsn(first_eight) == complete([int(c) for c in first_eight])


def _plain(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern `text._from` was given, without the lookahead that says where it may start."""
    found = re.fullmatch(r"\(\?=(.+?)\)\(\?:(.*)\)", pattern.pattern, re.S)
    assert found, pattern.pattern
    return re.compile(found[2], pattern.flags)


def test_patterns_tried_only_where_they_can_start_find_what_the_plain_ones_find():
    # `_from` puts a lookahead before a pattern (several times faster). Over the sample's
    # questions with personal data planted in them, and the texts of this file's tests,
    # each finds exactly what the plain pattern finds, and an address is never passed over.
    texts = [q.text for q in planted.questions(200, when=datetime(2026, 3, 2))]
    rows = map(json.loads, planted.SAMPLE.read_text("utf-8").splitlines())
    texts += [f"{row['subject']}\n\n{row['body']}" for row in rows]
    texts += [
        "Kerkstraat 12a, 1234 AB Utrecht; tel. (070) 1234567 of +31 6 12345678; NL91 ABNA 0417 1643 00",
        f"BSN: {VALID_BSN}, bsn-nummer 1112 22 333, V-nummer 2612345678, vnr. 26 1234 5678, geboren 3 april 2015",
        "Op 03-04-2015, 3/4/15, 03.04.2015 en 2015-04-03; artikel 1.2.10; DE89 3704 0044 0532 0130 00; 0546 123456",
        "mail j.jansen@ind.example of (0546) 123456; Van der Lindenlaan 7-2, 2514 EA; wet 2000 AB",
    ]
    wrapped = [value for value in vars(text_module).values()
               if isinstance(value, re.Pattern) and value.pattern.startswith("(?=")]
    assert len(wrapped) >= 9
    for pattern in wrapped:
        plain = _plain(pattern)
        for text in texts:
            assert pattern.sub("[X]", text) == plain.sub("[X]", text), (pattern.pattern[:40], text[:80])
    for text in texts:
        assert bool(text_module._STREET.search(text)) <= bool(text_module._HAS_STREET.search(text))


def _any_case_texts() -> list[str]:
    texts = [q.text for q in planted.questions(100, when=datetime(2026, 3, 2))]
    texts += [
        "De MOEDER Fatima en haar Zoon Ahmed; CLIËNT: Petra; Mevr. De Vries; dhr. Jansen; DIABETES en PTSS",
        "İstanbul: de moeder İlknur; ſuikerziekte en de zuſter Aıla; naam kind: K. Kelvin",  # letters lower() changes
    ]
    return texts


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("moederMOEDER zusZUSıſİKﬁ\u212a:\t.,ëËtaiTAI")), max_size=40))
def test_a_pattern_matched_in_lowered_text_matches_as_ignorecase_does(text):
    for anchor in (value for value in vars(text_module).values() if isinstance(value, text_module._AnyCase)):
        assert [m.span() for m in anchor.finditer(text)] == [m.span() for m in anchor.any_case.finditer(text)]


def test_patterns_matched_in_lowered_text_find_what_ignorecase_finds():
    # `_AnyCase` matches a lower-case pattern in the text lowered (a third of the cost of
    # re's IGNORECASE): the same places in every text, and the same health words gone.
    anchors = [value for value in vars(text_module).values() if isinstance(value, text_module._AnyCase)]
    assert len(anchors) >= 5
    for text in _any_case_texts():
        for anchor in anchors:
            assert [m.span() for m in anchor.finditer(text)] == [m.span() for m in anchor.any_case.finditer(text)]
        health = text_module._HEALTH
        assert health.sub("[gezondheid]", text.lower()) == health.any_case.sub("[gezondheid]", text).lower()


def _mentions_everywhere(text: str, found: list[str]) -> str:
    """`_redact_again` as it was: one pattern of every word of the names found."""
    words = {w.lower() for name in found for w in text_module._NAME_WORDS.findall(name)
             if len(w) >= 3 and w.lower() not in text_module._PARTICLES and w.lower() not in text_module._NOT_NAMES}
    return text_module._mentions(frozenset(words)).sub("[NAAM]", text) if words else text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("sinaSINAkKıſİ\u212aσςΣ -'\t\n.[]")), max_size=40),
       st.lists(st.sampled_from(["Sina", "Ksına", "Anis", "ıss", "Σίσα", "San-Kai", "d'Sina"]), max_size=3))
def test_names_found_are_redacted_everywhere_as_one_pattern_of_all_their_words_did(text, found):
    # only the words that occur in the text go into the pattern (often none: then no pattern is
    # compiled); what is redacted is the same, whatever the case or the letters re folds
    assert text_module._redact_again(text, list(found)) == _mentions_everywhere(text, list(found))


def test_a_name_found_once_is_redacted_in_any_case_and_spelling_elsewhere():
    found = ["Filmon Tesfamariam"]
    text = "Betreft: [NAAM]\n\nfilmon tesfamariam zit op school; FILMON ook. Tesfamariams? nee. ſilmon"
    assert text_module._redact_again(text, found) == (
        "Betreft: [NAAM]\n\n[NAAM] zit op school; [NAAM] ook. Tesfamariams? nee. ſilmon")
    assert text_module._redact_again("niets over hem", found) == "niets over hem"
