"""parse_message: the fixtures in tests/fixtures/mail, charsets, limits, TNEF, forwards."""

from __future__ import annotations

import base64
import hashlib
import logging
import struct
from email import policy
from email.parser import BytesHeaderParser
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.limits import ParseError, ParseLimits
from bot.ingest.parse import _PLAIN_ADDRESS, ORIGINAL_MESSAGE_ID, RECEIVED_COUNT, _decode_text_header, parse_message
from bot.ingest.text import decode_bytes
from bot.ingest.tnef import read_tnef

from tests import paths

FIXTURES = paths.FIXTURES / "mail"
CORPUS = paths.CORPUS
TNEF = "mimekit/UnitTests/TestData/tnef"


def parse(raw: bytes, **limits) -> object:
    return parse_message(raw, mailbox="ind", source_id="1", limits=ParseLimits(**limits))


def fixture(name: str):
    return parse((FIXTURES / name).read_bytes())


def mail(body: str | bytes, *, headers: str = "", ctype: str = "text/plain; charset=utf-8", cte: str = "8bit"):
    head = (
        "From: Eva Smit <e.smit@rvdk.example>\nTo: bvhk@ind.example\nSubject: Vraag\n"
        "Date: Tue, 14 Mar 2023 10:00:00 +0100\nMessage-ID: <t-1@rvdk.example>\n"
        f"{headers}MIME-Version: 1.0\nContent-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n\n"
    ).encode()
    return head + (body if isinstance(body, bytes) else body.encode())


# --- the fixtures ------------------------------------------------------------------------


def test_outlook_html_only_question():
    message = fixture("question-outlook-html-only.eml")
    assert message.content_type == "text/html"
    for junk in ("font-family", "@font-face", "mso-", "<o:p>", "o:p", "behavior:url", "WordSection", "<!--"):
        assert junk not in message.text
    assert message.question.startswith("Beste collega,\nIn een raadsonderzoek naar een gezin in Tilburg")
    assert message.question.endswith("of de maatregel meeweegt in de beslissing?")
    assert message.signature == (
        "Met vriendelijke groet,\nEva Smit\nRaadsonderzoeker\n"
        "Raad voor de Kinderbescherming | regio Zuidwest-Nederland, locatie Breda"
    )
    assert "informatie bevatten" not in message.question + message.signature
    assert "liability" not in message.question + message.signature
    assert "informatie bevatten die niet voor u is bestemd" in message.text  # text keeps everything


def test_iso_8859_1_question_has_no_mojibake():
    message = fixture("question-iso-8859-1.eml")
    assert message.subject == "Vraag over pleegkind en geïntegreerde aanpak"
    assert message.sender_name == "René Baër"
    assert "beëindigde verblijfsvergunning" in message.question
    assert "coördinerende" in message.question and "én wie" in message.question
    assert "Ã" not in message.text and "\ufffd" not in message.text
    assert message.signature.startswith("Mvg,\nRené Baër")


def test_reply_chain_keeps_only_the_new_question():
    message = fixture("question-reply-chain.eml")
    assert message.question == (
        "Dank voor jullie antwoord. Nog één vraag: moet de Raad ook akkoord geven voordat "
        "wij het vertrek voorbereiden?"
    )
    assert message.signature == "Groet,\nTom Hendriks\nRegievoerder DT&V, regio Noord"
    assert message.in_reply_to == "<AS8PR09MB6098C1D2E3F4A5B6@AS8PR09MB6098.eurprd09.prod.outlook.example>"
    assert len(message.references) == 2
    assert message.forwarded_by == ""


def test_inline_forward_names_the_original_asker():
    message = fixture("question-forward-inline.eml")
    assert message.sender == "d.yilmaz@rvdk.example"
    assert message.sender_name == "Yilmaz, D. (Derya)"
    assert message.forwarded_by == "i.vos@ind.example"
    assert message.question.startswith("Goedemiddag,\n\nDe vader van een meisje van 6")
    assert "Ter info" not in message.question
    assert message.signature.endswith("Raad voor de Kinderbescherming regio Midden-Nederland")


def test_forward_as_attachment_names_the_original_asker():
    message = fixture("question-forward-attached.eml")
    assert message.sender == "mentor.budel@coa.example"
    assert message.sender_name == "Mentor COA"
    assert message.forwarded_by == "i.vos@ind.example"
    assert message.question.startswith("Hallo,\n\nEen oom van een alleenstaande minderjarige in Budel")
    assert message.signature == "Vriendelijke groet,\nMentor COA Budel"
    assert [(a.name, a.content_type) for a in message.attachments] == [
        ("Voogdij door oom van amv.eml", "message/rfc822")
    ]


def test_forward_whose_header_block_names_no_address():
    raw = mail(
        "Graag oppakken.\n\n-----Oorspronkelijk bericht-----\nVan: Yilmaz, D. (Derya)\n"
        "Verzonden: vrijdag 17 maart 2023 15:12\nAan: Vos, Ilse\nOnderwerp: omgang\n\nKan de vader verblijf aanvragen?"
    ).replace(b"Subject: Vraag", b"Subject: [EXTERN] FW: omgang")
    message = parse(raw)
    assert (message.sender, message.sender_name) == ("", "Yilmaz, D. (Derya)")
    assert message.forwarded_by == "e.smit@rvdk.example"
    assert message.question == "Kan de vader verblijf aanvragen?"


def test_forward_of_a_reply_subject_without_block_keeps_the_forwarder():
    message = fixture("question-forwarded-bounce.eml")  # "FW:" but nothing forwarded in the text
    assert message.sender == "i.vos@ind.example"
    assert message.forwarded_by == ""


def test_signature_and_disclaimer_fixture():
    message = fixture("question-disclaimer-signature.eml")
    assert message.question.endswith("- Welke stukken hebben jullie daarvoor nodig?")
    assert message.signature.startswith("Met vriendelijke groeten,\n\nJeroen Willems")
    assert message.signature.endswith("T 088 000 0000")
    assert "Staat" not in message.signature and "State" not in message.signature


def test_gmail_reply_with_wrapped_intro_line():
    message = fixture("question-gmail-reply.eml")
    assert message.question == "Hoi,\n\nDank! Betekent dit dat wij de zaak ook bij de IND moeten melden?"


def test_automatic_reply_fixture_base64_body_and_headers():
    message = fixture("auto-reply-exchange-online-nl.eml")
    assert message.text.startswith("Ik ben afwezig tot en met vrijdag 14 april.")
    assert message.headers["auto-submitted"] == "auto-generated"
    assert message.headers["x-auto-response-suppress"] == "All"
    assert message.headers[RECEIVED_COUNT] == "1"
    assert message.attachments == ()  # the HTML twin of the plain body is no attachment
    assert all(name == name.lower() for name in message.headers)


def test_bounce_fixture_names_the_message_that_bounced():
    message = fixture("bounce-exchange-nl.eml")
    assert message.headers[ORIGINAL_MESSAGE_ID] == "<triage-forward-77@bvhk.example>"
    assert "x-bvhk-triage" not in message.headers  # only the top-level headers count
    assert {a.content_type for a in message.attachments} == {"message/delivery-status", "message/rfc822"}


def test_read_receipt_names_the_original_message():
    message = fixture("read-receipt-outlook-nl.eml")
    assert message.headers[ORIGINAL_MESSAGE_ID] == "<answer-0010@ind.example>"


def test_every_fixture_parses_without_logging(caplog):
    caplog.set_level(logging.DEBUG)
    names = sorted(FIXTURES.glob("*.eml"))
    assert len(names) >= 25
    for path in names:
        message = parse(path.read_bytes())
        assert message.fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()
        assert message.size == len(path.read_bytes())
    assert [r for r in caplog.records if r.name.startswith("bot")] == []


# --- headers -----------------------------------------------------------------------------


def test_missing_message_id_is_synthesised_from_the_fingerprint():
    raw = b"From: a@rvdk.example\nSubject: vraag\n\ntekst\n"
    message = parse(raw)
    assert message.message_id == f"<sha256-{hashlib.sha256(raw).hexdigest()}@bvhk-triage.invalid>"


def test_rfc2047_headers_are_decoded():
    raw = mail("tekst", headers="")
    raw = raw.replace(b"Subject: Vraag", b"Subject: =?utf-8?B?VnJhYWcgb3ZlciBkZSBvdmVyZHJhY2h0IHZhbiBrbGVpbmUgSm/Dqw==?=")
    raw = raw.replace(b"From: Eva Smit", b"From: =?iso-8859-1?Q?Jo=EBl_M=FCller?=")
    message = parse(raw)
    assert message.subject == "Vraag over de overdracht van kleine Joë"
    assert message.sender_name == "Joël Müller"
    assert message.sender == "e.smit@rvdk.example"


def test_headers_policy_default_chokes_on_fall_back_to_compat32():
    # policy.default raises AttributeError on an empty group followed by a comment
    value = "unlisted-recipients:; (no To-header on input), =?utf-8?Q?Contact_BvhK?= <bvhk@ind.example>"
    with pytest.raises(AttributeError):
        policy.default.header_factory("to", value).addresses
    message = parse(mail("tekst").replace(b"To: bvhk@ind.example", f"To: {value}".encode()))
    assert message.to == ("bvhk@ind.example",)


def test_eight_bit_header_without_charset():
    raw = mail("tekst").replace(b"Subject: Vraag", "Subject: Vraag over coördinatie".encode("utf-8"))
    assert parse(raw).subject == "Vraag over coördinatie"
    raw = mail("tekst").replace(b"Subject: Vraag", "Subject: Vraag over coördinatie".encode("latin-1"))
    assert parse(raw).subject == "Vraag over coördinatie"


def test_obsolete_header_syntax_and_byte_order_mark():
    raw = b"\xef\xbb\xbfFrom: a@rvdk.example\nSubject : vraag over OTS\n\ntekst\n"
    message = parse(raw)
    assert message.subject == "vraag over OTS"
    assert message.sender == "a@rvdk.example"


def test_unparseable_date_is_none_and_naive_date_is_utc():
    assert parse(mail("x").replace(b"Tue, 14 Mar 2023 10:00:00 +0100", b"gisteren")).date is None
    assert parse(mail("x").replace(b"+0100", b"-0000")).date.utcoffset().total_seconds() == 0


def test_long_header_is_cut_before_decoding():
    raw = mail("tekst").replace(b"Subject: Vraag", b"Subject: " + b"=?utf-8?q?ab?= " * 20_000)
    message = parse(raw, max_header_chars=1000)
    assert 0 < len(message.subject) <= 1000


# --- charsets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, charset, expected",
    [
        ("coördinatie".encode("utf-8"), "utf-8", "coördinatie"),
        ("coördinatie".encode("utf-8"), "iso-8859-1", "coördinatie"),  # mislabelled UTF-8
        ("“gezag” – €".encode("cp1252"), "iso-8859-1", "“gezag” – €"),  # windows-1252 sent as latin-1
        ("coördinatie".encode("latin-1"), None, "coördinatie"),
        ("coördinatie".encode("utf-8"), None, "coördinatie"),
        ("coördinatie".encode("utf-8"), "x-unknown", "coördinatie"),
        ("coördinatie".encode("latin-1"), "utf-8", "coördinatie"),  # latin-1 sent as UTF-8
        (b"Hallo +AOk-n", "utf-7", "Hallo én"),
        (b"Hallo +AOk-n", "unicode-1-1-utf-7", "Hallo én"),
        (b"plain ascii", "rot13", "plain ascii"),  # a Python codec that is no charset
        (b"\\u0041", "unicode_escape", "\\u0041"),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        ("日本語".encode("iso-2022-jp"), "iso-2022-jp", "日本語"),
    ],
)
def test_decode_bytes(data, charset, expected):
    assert decode_bytes(data, charset) == expected


def test_utf7_body_and_invalid_charset_label():
    utf7 = mail(b"Vraag over de co+APY-rdinatie", ctype="text/plain; charset=utf-7", cte="7bit")
    assert parse(utf7).text == "Vraag over de coördinatie"
    invalid = mail("Vraag over de coördinatie".encode(), ctype='text/plain; charset="bogus-charset"')
    assert parse(invalid).text == "Vraag over de coördinatie"


def test_html_charset_from_meta_when_mime_has_none():
    html = '<html><head><meta charset="windows-1252"></head><body><p>co\xf6rdinatie</p></body></html>'
    raw = mail(html.encode("cp1252"), ctype="text/html")
    assert parse(raw).text == "coördinatie"


def test_plain_text_is_preferred_over_html():
    outer = MIMEMultipart("alternative")
    outer["From"], outer["Subject"] = "a@rvdk.example", "vraag"
    outer.attach(MIMEText("platte tekst", "plain", "utf-8"))
    outer.attach(MIMEText("<p>html tekst</p>", "html", "utf-8"))
    message = parse(outer.as_bytes())
    assert message.text == "platte tekst"
    assert message.attachments == ()


def test_attachments_are_listed_with_name_type_and_size():
    outer = MIMEMultipart("mixed")
    outer["From"], outer["Subject"] = "a@rvdk.example", "vraag"
    outer.attach(MIMEText("zie bijlage", "plain", "utf-8"))
    pdf = MIMEApplication(b"%PDF-1.4 fake", "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "beschikking €.pdf"))
    outer.attach(pdf)
    exe = MIMEApplication(b"MZ\x90\x00", "octet-stream")
    exe.add_header("Content-Disposition", "attachment", filename="=?utf-8?q?rapport_=C3=A9.exe?=")
    outer.attach(exe)
    message = parse(outer.as_bytes())
    assert message.text == "zie bijlage"
    assert [(a.name, a.content_type, a.size) for a in message.attachments] == [
        ("beschikking €.pdf", "application/pdf", 13),
        ("rapport é.exe", "application/octet-stream", 4),
    ]


# --- TNEF --------------------------------------------------------------------------------


def _with_winmail(blob: bytes) -> bytes:
    outer = MIMEMultipart("mixed")
    outer["From"], outer["Subject"] = "a@ind.example", "vraag met winmail.dat"
    outer.attach(MIMEText("Zie de bijlagen.", "plain", "utf-8"))
    part = MIMEApplication(blob, "ms-tnef")
    part.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    outer.attach(part)
    return outer.as_bytes()


def test_tnef_attachment_names_are_listed_not_opened():
    message = parse(_with_winmail(paths.require_corpus(f"{TNEF}/two-files.tnef").read_bytes()))
    assert [a.name for a in message.attachments] == ["AUTHORS", "README"]
    assert message.text == "Zie de bijlagen."


def test_tnef_body_is_read_when_there_is_no_other_text():
    tnef = read_tnef(paths.require_corpus(f"{TNEF}/body.tnef").read_bytes())
    assert len(tnef.text) > 20 and "<" not in tnef.text[:20]


def _hostile_tnef() -> bytes:
    """A 40-byte blob that declares four billion MAPI properties: tnefparse loops for hours."""
    payload = struct.pack("<I", 0xFFFFFFFF)
    return (struct.pack("<IH", 0x223E9F78, 0) + struct.pack("<BHHI", 1, 0x9003, 6, len(payload))
            + payload + b"\x00\x00" + b"\x00" * 16)


def test_hostile_tnef_is_stopped_and_listed_as_a_defect():
    with pytest.raises(ParseError, match="TNEF-bijlage niet gelezen binnen 2 seconden"):
        read_tnef(_hostile_tnef(), limits=ParseLimits(tnef_seconds=2))
    message = parse(_with_winmail(_hostile_tnef()), tnef_seconds=2)
    assert [a.name for a in message.attachments] == ["winmail.dat"]
    assert "TNEF-bijlage niet gelezen binnen 2 seconden" in message.defects


def test_not_a_tnef_blob():
    with pytest.raises(ParseError, match="geen TNEF-handtekening"):
        read_tnef(b"MZ\x90\x00 not tnef")


# --- limits and quarantine ---------------------------------------------------------------


def test_over_the_size_cap():
    with pytest.raises(ParseError, match="groter dan 1 MB"):
        parse(mail("x" * (1024 * 1024)), max_bytes=1024 * 1024)


def test_header_block_over_the_cap():
    raw = b"From: a@rvdk.example\nSubject: x\n" + b"X-Filler: abc\n" * 100_000 + b"\ntekst\n"
    with pytest.raises(ParseError, match="kopregels van een MIME-deel groter dan 1 MB"):
        parse(raw)
    assert parse(raw, max_header_bytes=4 * 1024 * 1024).text == "tekst"


def _nested_multipart(depth: int) -> bytes:
    head = "From: a@rvdk.example\nSubject: GEHEIM-123\n"
    for level in range(depth):
        head += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'
    head += "Content-Type: text/plain\n\ntekst\n"
    for level in reversed(range(depth)):
        head += f"--b{level}--\n"
    return head.encode()


def test_nesting_deeper_than_the_cap():
    assert parse(_nested_multipart(5)).text == "tekst"
    with pytest.raises(ParseError, match="dieper genest dan 20 niveaus") as error:
        parse(_nested_multipart(30))
    assert "GEHEIM" not in error.value.reason and "rvdk" not in error.value.reason


def test_nested_attached_messages_count_as_depth():
    raw = b"From: a@rvdk.example\nSubject: x\n" + b"Content-Type: message/rfc822\n\n" * 40 + b"\ntekst\n"
    with pytest.raises(ParseError, match="te diep genest|dieper genest"):
        parse(raw)


def test_thousands_of_nested_levels_are_refused_before_parsing():
    with pytest.raises(ParseError, match="dieper genest"):
        parse(_nested_multipart(3000))


def test_too_many_parts():
    body = "".join(f"--b\nContent-Type: text/plain\n\ndeel {i}\n" for i in range(1100)) + "--b--\n"
    raw = mail(body, ctype='multipart/mixed; boundary="b"')
    with pytest.raises(ParseError, match="meer dan 1000 MIME-delen"):
        parse(raw)


def test_no_usable_content():
    with pytest.raises(ParseError, match="geen bruikbare inhoud"):
        parse(b"From: a@rvdk.example\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\n \n--x--\n")


def test_multipart_without_its_boundary_is_read_as_text():
    message = parse(b"From: a@rvdk.example\nContent-Type: multipart/mixed; boundary=x\n\nDe vraag.\n")
    assert message.text == "De vraag."
    assert message.attachments == ()


def test_bytes_that_are_no_mail():
    with pytest.raises(ParseError, match="geen herkenbare kopregels"):
        parse(b"\x00\x01\x02 random bytes \xff\xfe")


def test_message_partial_is_quarantined():
    raw = b"From: a@rvdk.example\nSubject: x\nContent-Type: message/partial; id=abc; number=1\n\nxyz\n"
    with pytest.raises(ParseError, match="message/partial"):
        parse(raw)


def test_text_is_cut_at_the_limit():
    message = parse(mail("woord " * 10_000), max_text_chars=1000)
    assert len(message.text) == 1000
    assert "tekst ingekort tot 1000 tekens" in message.defects


def test_huge_html_is_cut_before_conversion():
    html = "<table>" + "<tr><td>cel</td></tr>" * 200_000 + "</table>"
    message = parse(mail(html, ctype="text/html; charset=utf-8"), max_html_chars=100_000)
    assert 0 < len(message.text) < 100_000


def test_base64_garbage_in_a_text_part_does_not_fail():
    raw = mail(b"!!!! not base64 ====\n" + base64.b64encode(b"tekst"), cte="base64")
    assert isinstance(parse(raw).text, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_raise_only_parse_error(raw):
    try:
        message = parse(raw)
    except ParseError as error:
        assert error.reason and "\n" not in error.reason
    else:
        assert message.message_id.startswith("<")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.sampled_from([
        "Subject: =?utf-8?B?", "Subject: =?x-unknown?q?=FF?=", "From: <>", "From: \"unterminated <a@b",
        "To: a@b, , ,;: ", "Content-Type: multipart/mixed", "Content-Type: text/plain; charset=\"\"",
        "Content-Type: text/html; charset=utf-7", "Content-Transfer-Encoding: base64",
        "Content-Transfer-Encoding: x-uuencode", "Content-Disposition: attachment; filename*=bogus''%%",
        "Date: Mon, 99 Foo 99999 99:99:99 +9999", "Message-ID: <<<>>>", "References: <a> <b",
        "Content-Type: message/rfc822", "Content-Type: application/ms-tnef",
    ]), max_size=8),
    body=st.binary(max_size=500),
)
def test_malformed_headers_raise_only_parse_error(headers, body):
    raw = ("\n".join(headers) + "\n\n").encode() + body
    try:
        parse(raw, tnef_seconds=5)
    except ParseError as error:
        assert "onverwachte fout" not in error.reason, error.reason


def _address_values(paths) -> list[tuple[str, str]]:
    values = []
    for path in paths:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(path.read_bytes())
        for name in ("from", "to", "cc", "reply-to", "sender"):
            values += [(name, str(v).replace("\r", "").replace("\n", " ")) for v in headers.get_all(name) or []]
    return values


PLAIN_ADDRESSES = [
    "anna@ind.example", "<anna@ind.example>", "Anna Jansen <anna@ind.example>", "  Anna  Jansen<a.jansen@x.nl> ",
    "D'Souza-de Vries <d.souza@rvdk.example>", "ANNA@IND.EXAMPLE", "a+tag@sub.ind.example",
]
NOT_PLAIN = [
    '"Jansen, Anna" <anna@ind.example>', "=?utf-8?q?Ren=C3=A9e?= <renee@ind.example>", "a@x.nl, b@y.nl",
    "Anna (IND) <anna@ind.example>", "René <rene@ind.example>", "J. Jansen <j@ind.example>", "anna@localhost",
    "a..b@ind.example", "Anna <anna@ind.example", "undisclosed-recipients:;",
]


def test_a_plain_address_is_read_as_policy_default_reads_it():
    # The fast path of address headers: every value it takes (the sample, the shared corpus
    # when it is there, and the cases above) gives what policy.default's parser gives.
    corpus = [p for p in paths.CORPUS.rglob("*") if p.is_file()] if paths.CORPUS.exists() else []
    values = _address_values([p for p in (paths.SAMPLE / "mailbox").rglob("*") if p.is_file()] + corpus)
    values += [("from", v) for v in PLAIN_ADDRESSES + NOT_PLAIN]
    taken = 0
    for name, value in values:
        if not (plain := _PLAIN_ADDRESS.fullmatch(value)):
            continue
        taken += 1
        ours = (" ".join(plain[1].split()), plain[2]) if plain[2] else ("", plain[3])
        theirs = [(" ".join(str(a.display_name).split()), str(a.addr_spec))
                  for a in policy.default.header_factory(name, value).addresses]
        assert [ours] == theirs, value
    assert all(_PLAIN_ADDRESS.fullmatch(v) for v in PLAIN_ADDRESSES)
    assert not any(_PLAIN_ADDRESS.fullmatch(v) for v in NOT_PLAIN)
    assert taken > len(PLAIN_ADDRESSES) + 100  # the sample's own senders, at least


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("Aaz09 .-'_+%@<>,\"()=?:;")), max_size=40))
def test_the_plain_address_path_takes_nothing_policy_default_reads_otherwise(value):
    if plain := _PLAIN_ADDRESS.fullmatch(value):
        ours = (" ".join(plain[1].split()), plain[2]) if plain[2] else ("", plain[3])
        theirs = [(" ".join(str(a.display_name).split()), str(a.addr_spec))
                  for a in policy.default.header_factory("from", value).addresses]
        assert [ours] == theirs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=80))
def test_a_header_with_nothing_to_decode_reads_as_policy_default_reads_it(value):
    # The fast path of text headers (subject, file names): ASCII without an encoded word
    # is only unfolded and its white space made single, as policy.default's parser gives it.
    limits = ParseLimits()
    if "=?" not in value and "\r" not in value and "\n" not in value:
        assert _decode_text_header("subject", value, limits) == " ".join(
            str(policy.default.header_factory("subject", value)).split())
