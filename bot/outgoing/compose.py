"""The forward: a short Dutch triage summary on top, the original attached as received.

The original is attached as the raw bytes that came in (`message/rfc822`, line ends as on
the wire), never parsed and serialised again: what the contact person opens is what the asker sent, and no header of it
can be re-folded into new header lines (CVE-2024-6923). Every header the product writes
goes through `header_block`, which refuses CR and LF; text taken from a mail (the subject)
has its control characters replaced first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Sequence
from email.header import Header
from email.utils import formataddr, formatdate, getaddresses

from bot.render import render

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CRLF = re.compile(rb"\r?\n")
_LINE_BREAK = re.compile(r"[\r\n]")
_ADDRESSES = frozenset({"from", "to", "cc", "reply-to"})
MAX_LINE = 78  # octets in a line of text sent as it is (email's policy.SMTP.max_line_length)


def outgoing_message_id(*, triage_id: str, recipient: str, purpose: str) -> str:
    """Stable: the same question, recipient and purpose always give the same Message-ID."""
    digest = hashlib.sha256(f"{triage_id}|{recipient.lower()}|{purpose}".encode()).hexdigest()[:16]
    return f"<{triage_id}.{purpose}.{digest}@bvhk-triage>"


def header_text(value: str, *, limit: int = 200) -> str:
    """Text from a mail made fit for a header we write: no control characters, one line, cut."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit].rstrip()


def compose_forward(
    *,
    raw: bytes,
    original_message_id: str,
    original_subject: str,
    sender: str,
    recipient: str,
    message_id: str,
    triage_id: str,
    summary: dict,
    reply_to: list[str] | None = None,
    date: str | None = None,
) -> bytes:
    """The forward: a short Dutch triage summary on top, the original attached as received.
    The subject carries the kenmerk, so that replies in the thread find the question again."""
    label = {"follow_up": "vervolg", "review": "ter beoordeling"}.get(summary.get("purpose", ""), summary["theme_name"])
    fields = [
        ("From", sender),
        ("To", recipient),
        ("Subject", f"[BvhK {label} {triage_id}] {header_text(original_subject) or '(geen onderwerp)'}"),
        ("Date", date or formatdate(localtime=True)),
        ("Message-ID", message_id),
        ("In-Reply-To", original_message_id),
        ("References", original_message_id),
        *([("Reply-To", ", ".join(reply_to))] if reply_to else []),
        ("X-BvhK-Triage", triage_id),
        ("X-BvhK-Triage-Original", original_message_id),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
    ]
    return with_attached_original(fields, text_part(render("forward.txt.j2", triage_id=triage_id, **summary)), raw)


def text_part(text: str) -> bytes:
    """`text` as a text/plain part in UTF-8, line ends CRLF: as it is (7bit, or 8bit as the
    attached original may be) when every line fits in 78 octets, else quoted-printable, as
    `set_content` encodes our summaries (it would take base64 for text that is mostly not
    Latin, which quoted-printable carries as well). Written directly: `set_content` parsed
    its own headers again, a twentieth of a poll's time."""
    lines = text.encode("utf-8").splitlines()
    body = b"\r\n".join(lines) + b"\r\n"
    if all(len(line) <= MAX_LINE for line in lines):
        encoding = b"7bit" if body.isascii() else b"8bit"
    else:
        body, encoding = binascii.b2a_qp(body, istext=True), b"quoted-printable"
    return b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ' + encoding + b"\r\n\r\n" + body


def header_block(fields: Sequence[tuple[str, str]]) -> bytes:
    """The header lines we write, as they travel: a value holding CR or LF is refused (no
    header of ours can be split into two), text that is not ASCII or too long for one line
    is RFC 2047-encoded and folded (`email.header`), and addresses keep their angle
    brackets outside an encoded display name (`email.utils.formataddr`). Written directly:
    setting them on an EmailMessage parsed each one again, a tenth of a poll's time."""
    lines = []
    for name, value in fields:
        if _LINE_BREAK.search(value):
            raise ValueError(f"header {name}: a value may not hold CR or LF")
        if name.lower() in _ADDRESSES:
            addresses = [formataddr(pair, charset="utf-8") if pair[1].isascii() else f"{pair[0]} <{pair[1]}>"
                         for pair in getaddresses([value])]
            value = ", ".join(addresses)
            if len(name) + len(value) > 76:
                value = ",\r\n ".join(addresses)  # one address a line
        elif not value.isascii() or len(name) + len(value) > 76:
            value = Header(value, "us-ascii" if value.isascii() else "utf-8", header_name=name).encode(linesep="\r\n")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("utf-8")


def with_attached_original(fields: Sequence[tuple[str, str]], first: bytes, raw: bytes) -> bytes:
    """The header `fields` over a multipart/mixed of `first` (a part, headers and body) and the
    original attached as received.

    The original goes as `message/rfc822`, byte for byte but for its line ends, which become
    CRLF as on the wire (a Maildir stores LF). A line longer than SMTP allows (998 octets)
    cannot travel that way: such an original is attached base64-encoded as `vraag.eml`
    (application/octet-stream), still byte for byte."""
    boundary = _boundary(raw)
    headers = header_block([*fields, ("MIME-Version", "1.0"),
                            ("Content-Type", f'multipart/mixed; boundary="{boundary}"')])
    wire = _CRLF.sub(b"\r\n", raw)
    if wire and not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    if any(len(line) > 998 for line in wire.split(b"\r\n")):
        attachment = (b'Content-Type: application/octet-stream; name="vraag.eml"\r\n'
                      b'Content-Disposition: attachment; filename="vraag.eml"\r\n'
                      b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(raw).replace(b"\n", b"\r\n"))
    else:
        encoding = b"7bit" if wire.isascii() else b"8bit"
        attachment = (b'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="vraag.eml"\r\n'
                      b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + wire)
    dash = b"--" + boundary.encode("ascii")
    return b"".join((headers, b"\r\n", dash, b"\r\n", first, b"\r\n", dash, b"\r\n",
                     attachment, dash, b"--\r\n"))


def _boundary(raw: bytes) -> str:
    while True:  # a boundary that occurs nowhere in the original
        boundary = f"bvhk-{secrets.token_hex(12)}"
        if boundary.encode("ascii") not in raw:
            return boundary
