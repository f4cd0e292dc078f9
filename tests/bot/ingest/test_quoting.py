"""split_question, find_forwarded and parse_address on Dutch and English mail text."""

from __future__ import annotations

import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.quoting import find_forwarded, parse_address, split_question

RIJKS_DISCLAIMER = (
    "Dit bericht kan informatie bevatten die niet voor u is bestemd. Indien u niet de\n"
    "geadresseerde bent of dit bericht abusievelijk aan u is toegezonden, wordt u verzocht\n"
    "dat aan de afzender te melden en het bericht te verwijderen.\n\n"
    "This message may contain information that is not intended for you. If you are not the\n"
    "addressee or if this message was sent to you by mistake, you are requested to inform\n"
    "the sender and delete the message."
)


@pytest.mark.parametrize(
    "history",
    [
        "Van: Piet Pietersen <piet@rvdk.example>\nVerzonden: maandag 3 april 2023 10:00\n"
        "Aan: BvhK <bvhk@ind.example>\nOnderwerp: eerdere vraag\n\nOude tekst.",
        "From: Piet Pietersen <piet@rvdk.example>\nSent: Monday, April 3, 2023 10:00 AM\n"
        "To: BvhK <bvhk@ind.example>\nSubject: earlier question\n\nOld text.",
        "-----Oorspronkelijk bericht-----\nVan: Piet\nVerzonden: maandag 3 april 2023\n\nOude tekst.",
        "-----Original Message-----\nFrom: Piet\nSent: Monday\n\nOld text.",
        "Op ma 3 apr. 2023 om 10:00 schreef Piet Pietersen <piet@rvdk.example>:\n> Oude tekst.\n> Meer.",
        "Op 3 apr. 2023, om 10:00 heeft Piet <piet@rvdk.example> het volgende geschreven:\n\n> Oude tekst.",
        "On Mon, Apr 3, 2023 at 10:00 AM Piet <piet@rvdk.example> wrote:\n> Old text.",
        "Op ma 3 apr 2023 om 10:00 schreef Piet Pietersen <\npiet@rvdk.example>:\n\n> Oude tekst.",
        "________________________________\nVan: Piet <piet@rvdk.example>\nVerzonden: maandag\n"
        "Aan: BvhK\nOnderwerp: vraag\n\nOude tekst.",
        "> Oude tekst\n> nog meer oude tekst",
        "---------- Forwarded message ---------\n*From:* Piet <piet@rvdk.example>\n*Date:* Mon, Apr 3\n\nOld.",
    ],
)
def test_quoted_history_is_not_part_of_the_question(history):
    text = f"Beste collega,\n\nHeeft het kind een verblijfsvergunning?\n\n{history}\n"
    question, signature = split_question(text)
    assert question == "Beste collega,\n\nHeeft het kind een verblijfsvergunning?"
    assert signature == ""


@pytest.mark.parametrize(
    "sign_off",
    ["Met vriendelijke groet,", "Met vriendelijke groeten,", "Vriendelijke groet,", "Groet,",
     "Groeten,", "Mvg,", "M.v.g.", "Hartelijke groet,", "Met collegiale groet,", "Kind regards,",
     "Best regards,", "Regards,", "Met vriendelijke groet, Jan Jansen", "Gr. Jan", "--",
     "Verzonden vanaf mijn iPhone", "Sent from my iPad"],
)
def test_signature_is_returned_apart(sign_off):
    text = f"Hoi,\n\nWie is de contactpersoon in Breda?\n\n{sign_off}\nJan Jansen\nRvdK regio Breda"
    question, signature = split_question(text)
    assert question == "Hoi,\n\nWie is de contactpersoon in Breda?"
    assert signature.startswith(sign_off.strip())
    assert signature.endswith("RvdK regio Breda")


def test_bullet_lists_and_dashes_in_the_question_are_kept():
    text = "Vragen:\n- is er een OTS?\n- wie is voogd?\n\nMet vriendelijke groet,\nEva"
    question, signature = split_question(text)
    assert question == "Vragen:\n- is er een OTS?\n- wie is voogd?"
    assert signature == "Met vriendelijke groet,\nEva"


def test_government_disclaimer_is_dropped_from_question_and_signature():
    text = (
        "Kunnen jullie adviseren?\n\nMet vriendelijke groet,\nJeroen Willems\nIND locatie Zwolle\n\n"
        "________________________________\n" + RIJKS_DISCLAIMER
    )
    question, signature = split_question(text)
    assert question == "Kunnen jullie adviseren?"
    assert signature == "Met vriendelijke groet,\nJeroen Willems\nIND locatie Zwolle"


def test_disclaimer_without_signature_is_dropped():
    question, signature = split_question("Wat is de status?\n\n" + RIJKS_DISCLAIMER)
    assert question == "Wat is de status?"
    assert signature == ""


def test_greeting_on_the_first_line_is_not_a_signature():
    question, signature = split_question("Groeten uit Breda en een vraag: wie is voogd?")
    assert question == "Groeten uit Breda en een vraag: wie is voogd?"
    assert signature == ""


def test_text_between_and_below_quoted_lines_is_kept():
    text = "On Mon, Apr 3, 2023 Piet wrote:\n> Is er een OTS?\n\nJa, sinds januari.\n> Wie is voogd?\n\nNidos."
    question, _ = split_question(text)
    assert question == "Ja, sinds januari.\n\nNidos."


def test_question_lines_that_look_like_fields_are_not_history():
    text = "Gegevens van de zaak:\nDatum: 3 april 2023\nAan: de Raad\n\nWat is de volgende stap?"
    question, _ = split_question(text)
    assert question == text


def test_pure_forward_yields_the_forwarded_question():
    text = (
        "Met vriendelijke groet,\nIlse Vos\n\n"
        "---------- Forwarded message ---------\nFrom: Derya Yilmaz <d.yilmaz@rvdk.example>\n"
        "Date: vr 17 mrt 2023 om 15:12\nSubject: Vraag over omgang\nTo: <i.vos@ind.example>\n\n"
        "Kan de vader verblijf aanvragen?\n\nGroet,\nDerya\nRvdK Midden-Nederland"
    )
    question, signature = split_question(text)
    assert question == "Kan de vader verblijf aanvragen?"
    assert signature == "Groet,\nDerya\nRvdK Midden-Nederland"


@pytest.mark.parametrize(
    "separator",
    ["---------- Forwarded message ---------", "---------- Doorgestuurd bericht ---------",
     "Begin forwarded message:", "Begin doorgestuurd bericht:", "-----Oorspronkelijk bericht-----",
     "________________________________"],
)
def test_find_forwarded_names_the_original_sender(separator):
    text = (
        f"Ter info.\n\n{separator}\nVan: Yilmaz, D. (Derya) <d.yilmaz@rvdk.example>\n"
        "Verzonden: vrijdag 17 maart 2023 15:12\nAan: Vos, Ilse <i.vos@ind.example>\n"
        "Onderwerp: Vraag over omgang\n\nKan de vader verblijf aanvragen?"
    )
    forwarded = find_forwarded(text)
    assert forwarded is not None
    assert forwarded.sender == "d.yilmaz@rvdk.example"
    assert forwarded.sender_name == "Yilmaz, D. (Derya)"
    assert forwarded.subject == "Vraag over omgang"
    assert forwarded.text == "Kan de vader verblijf aanvragen?"
    assert forwarded.note == "Ter info."


def test_find_forwarded_with_blank_lines_between_fields_from_html():
    text = "Van: Piet <piet@dtv.example>\n\nVerzonden: maandag\n\nOnderwerp: vraag\n\nDe vraag zelf."
    forwarded = find_forwarded(text)
    assert forwarded is not None and forwarded.sender == "piet@dtv.example"
    assert forwarded.text == "De vraag zelf."


def test_find_forwarded_is_none_for_replies_and_plain_text():
    assert find_forwarded("Hoi,\n\nOp ma 3 apr schreef Piet <p@x.example>:\n> vraag") is None
    assert find_forwarded("Gewoon een vraag zonder doorsturen.") is None
    assert find_forwarded("Datum: 3 april\nAan: de Raad\n\nvraag") is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Piet Pietersen <Piet@RvdK.example>", ("Piet Pietersen", "piet@rvdk.example")),
        ("Piet Pietersen [mailto:piet@rvdk.example]", ("Piet Pietersen", "piet@rvdk.example")),
        ("Piet <piet@rvdk.example<mailto:piet@rvdk.example>>", ("Piet", "piet@rvdk.example")),
        ("piet@rvdk.example (Piet Pietersen)", ("Piet Pietersen", "piet@rvdk.example")),
        ("'Yilmaz, D. (Derya)' <d@rvdk.example>", ("Yilmaz, D. (Derya)", "d@rvdk.example")),
        ("Pietersen, Piet", ("Pietersen, Piet", "")),
    ],
)
def test_parse_address(value, expected):
    assert parse_address(value) == expected


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.parametrize(
    "line",
    ["2023/1/1 " + " <@" * 20_000, "Op " + " schreef " * 5000, "On " + "x" * 60_000,
     "Van: " + "a" * 60_000],
)
def test_adversarial_lines_are_handled_in_linear_time(line):
    text = "\n".join([line] * 50 + ["Van: x\nAan: y"] * 2000)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)  # a hang guard, not a timing test
    try:
        started = time.monotonic()
        split_question(text)
        find_forwarded(text)
    finally:
        signal.alarm(0)
    assert time.monotonic() - started < 20


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["a", "b", " ", ">", ":", "-", "_", "\n", "@", ".", "<", "Van: ", "Aan: ",
                         "Op ", " schreef ", "Groet,", "\n> ", "-----Oorspronkelijk bericht-----"])
        | st.text(max_size=5)
    ).map("".join)
)
def test_split_question_accepts_any_text(text):
    question, signature = split_question(text)
    assert isinstance(question, str) and isinstance(signature, str)
    assert len(question) + len(signature) <= len(text)
