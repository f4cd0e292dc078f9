"""The forward attaches the original as received and writes only clean headers."""

from __future__ import annotations

from email import policy
from email.message import MIMEPart
from email.utils import formataddr, getaddresses
from email.parser import BytesParser

import pytest

from bot.outgoing.compose import compose_forward, header_block, header_text, text_part
from tests.paths import FIXTURES

SUMMARY = dict(mailbox="ind", theme_name="Voogdij", theme_confidence=0.9, organisation="IND",
               asking_organisation="gemeente", region="Zwolle", region_reason="plaatsnaam Zwolle",
               priority="normaal", due_on=None, reason="minste openstaande vragen", purpose="forward",
               assignee="d.visser@ind.example", asked="Mag het kind met de moeder mee terugkeren?",
               region_found="Zwolle", status="routed", console_url="")


def forward(raw: bytes) -> bytes:
    return compose_forward(raw=raw, original_message_id="<injectie-0001@gemeente.example>",
                           original_subject="Vraag over verblijf\r\nBcc: attacker@evil.example\r\nX-Injected: yes",
                           sender="bvhk-triage@ind.example", recipient="d.visser@ind.example",
                           message_id="<t1.forward.x@bvhk-triage>", triage_id="t1", summary=SUMMARY)


def header_names(block: bytes) -> list[str]:
    return [line.split(b":", 1)[0].decode().lower() for line in block.split(b"\r\n")
            if line and not line[:1].isspace()]


def test_the_original_is_attached_byte_for_byte():
    raw = (FIXTURES / "mail" / "question-header-injection.eml").read_bytes()
    payload = forward(raw)
    assert raw in payload
    message = BytesParser(policy=policy.default).parsebytes(payload)
    attached = [p for p in message.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1 and attached[0].get_filename() == "vraag.eml"
    assert attached[0].get_content()["Message-ID"] == "<injectie-0001@gemeente.example>"


def test_an_encoded_newline_in_the_subject_adds_no_header_line():
    raw = (FIXTURES / "mail" / "question-header-injection.eml").read_bytes()
    payload = forward(raw)
    outer = payload.split(b"\r\n\r\n", 1)[0]
    assert "bcc" not in header_names(outer) and "x-injected" not in header_names(outer)
    start = payload.index(raw)
    inner = payload[start:].split(b"\r\n\r\n", 1)[0]  # the attached header block, as received
    assert "bcc" not in header_names(inner) and "x-injected" not in header_names(inner)
    assert b"\r\nBcc:" not in payload and b"\nX-Injected:" not in payload
    subject = BytesParser(policy=policy.default).parsebytes(payload)["Subject"].strip()
    assert subject == "[BvhK Voogdij t1] Vraag over verblijf Bcc: attacker@evil.example X-Injected: yes"


def test_header_text_is_one_line_without_control_characters():
    assert header_text("a\r\nb\tc\x00d  e") == "a b c d e"
    assert len(header_text("x" * 500)) == 200


def test_an_eight_bit_original_is_declared_8bit_and_a_boundary_never_occurs_in_it():
    raw = "Subject: café\r\n\r\n--bvhk-\r\nvraag ü\r\n".encode()
    payload = forward(raw)
    assert b"Content-Transfer-Encoding: 8bit\r\n\r\n" + raw in payload
    boundary = BytesParser(policy=policy.default).parsebytes(payload).get_boundary()
    assert boundary.encode() not in raw


def test_an_original_stored_with_lf_line_ends_travels_with_crlf():
    raw = (FIXTURES / "mail" / "question-header-injection.eml").read_bytes().replace(b"\r\n", b"\n")
    payload = forward(raw)
    assert raw.replace(b"\n", b"\r\n") in payload
    assert b"\n" not in payload.replace(b"\r\n", b"")  # no bare line feed anywhere: SMTP servers refuse them
    assert all(len(line) <= 998 for line in payload.split(b"\r\n"))


def test_an_original_with_a_line_too_long_for_smtp_is_attached_base64_byte_for_byte():
    raw = b"Subject: lang\n\n<html>" + b"x" * 5000 + b"</html>\n"
    message = BytesParser(policy=policy.default).parsebytes(forward(raw))
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "application/octet-stream"
    assert attached.get_filename() == "vraag.eml"
    assert attached.get_content() == raw
    assert all(len(line) <= 998 for line in forward(raw).split(b"\r\n"))


@pytest.mark.parametrize("length, kind", [(998, "message/rfc822"), (999, "application/octet-stream")])
def test_a_line_of_998_octets_travels_as_it_is_and_one_more_does_not(length, kind):
    for raw in (b"Subject: grens\n\n" + b"x" * length + b"\nnog een regel\n",  # as a Maildir stores it
                b"Subject: grens\r\n\r\n" + b"y" * length + b"\r\n",  # as on the wire, the long line last
                b"Subject: grens\n\n" + b"z" * length):  # without a line end at the end
        [attached] = list(BytesParser(policy=policy.default).parsebytes(forward(raw)).iter_attachments())
        assert attached.get_content_type() == kind


def test_headers_are_written_as_email_reads_them_back():
    raw = (FIXTURES / "mail" / "question-header-injection.eml").read_bytes()
    long_subject = "Vraag over de verblijfsvergunning van een minderjarige die bij een tante woont " * 3
    payload = compose_forward(raw=raw, original_message_id="<a-1@gemeente.example>", original_subject=long_subject,
                              sender='"BvhK IND" <bvhk@ind.example>', recipient="d.visser@ind.example",
                              message_id="<t2.forward.x@bvhk-triage>", triage_id="t2",
                              summary={**SUMMARY, "theme_name": "Gezag en omgang"},
                              reply_to=["Zoë Çelik <z.celik@gemeente.example>", "ind@bvhk.example"])
    block = payload.split(b"\r\n\r\n", 1)[0]
    assert block.isascii() and all(len(line) <= 78 for line in block.split(b"\r\n"))
    message = BytesParser(policy=policy.default).parsebytes(payload)
    assert message["Subject"] == f"[BvhK Gezag en omgang t2] {header_text(long_subject)}"
    assert [(a.display_name, a.addr_spec) for a in message["Reply-To"].addresses] == [
        ("Zoë Çelik", "z.celik@gemeente.example"), ("", "ind@bvhk.example")]
    assert message["From"].addresses[0].display_name == "BvhK IND"
    assert message["In-Reply-To"] == message["References"] == "<a-1@gemeente.example>"
    assert message.get_content_type() == "multipart/mixed" and not message.defects


def test_a_line_break_in_a_header_we_write_is_refused():
    with pytest.raises(ValueError, match="Reply-To"):
        header_block([("To", "a@b.example"), ("Reply-To", "x@y.example\r\nBcc: attacker@evil.example")])


@pytest.mark.parametrize("text", [
    "Kort en in ASCII.\nTwee regels.\n",
    "Antwoord vóór: 3 maart\nRegio: Zwolle — plaatsnaam\n",
    "Gevraagd:      " + "Mag het kind met de moeder mee terugkeren, ook als de vader in Nederland blijft? " * 3 + "\n",
    "Gevraagd:      " + "هل يمكن للطفل أن يبقى مع أمه في مركز الاستقبال؟ " * 4 + "\n",
    "een regel met spaties aan het eind   \n\tmet een tab\n=gelijk-teken en een punt\n.\n",
    "",
])
def test_the_summary_part_reads_back_as_the_text_email_would_have_written(text):
    theirs = MIMEPart(policy=policy.SMTP)
    theirs.set_content(text)
    ours, read_back = (BytesParser(policy=policy.default).parsebytes(part) for part in (text_part(text), theirs.as_bytes()))
    assert ours.get_content() == read_back.get_content()
    assert ours.get_content_type() == "text/plain" and ours.get_content_charset() == "utf-8"
    if theirs["Content-Transfer-Encoding"] in ("7bit", "8bit"):  # short lines: the very same bytes
        assert text_part(text) == theirs.as_bytes()
    assert b"\n" not in text_part(text).replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in text_part(text).split(b"\r\n")[3:])


@pytest.mark.parametrize("value", ["d.visser@ind.example", "a.b+c@d-e.example, x@y.nl", "o'brien@x.ie,c@d.nl",
                                   ".a@b.nl", "a..b@c.nl", "a@b.nl.", "{x}@y.nl", "`a`@b.nl", "a@b.nl,  c@d.nl",
                                   "Anna de Vries <a@b.nl>", "\"Visser, D.\" <d@ind.example>", "Zoë <z@x.nl>"])
def test_an_address_header_is_written_as_email_formats_its_addresses(value):
    addresses = [formataddr(pair, charset="utf-8") for pair in getaddresses([value])]
    assert header_block([("To", value)]) == f"To: {', '.join(addresses)}\r\n".encode()
