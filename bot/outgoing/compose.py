"""The forward: a short Dutch triage summary on top, the original attached as received.

The original is attached as the raw bytes that came in (`message/rfc822`, line ends as on
the wire), never parsed and serialised again: what the contact person opens is what the asker sent, and no header of it
can be re-folded into new header lines (CVE-2024-6923). Every header the product writes
goes through `email`'s header check, which refuses CR and LF; text taken from a mail (the
subject) has its control characters replaced first.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate

from bot.render import render

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CRLF = re.compile(rb"\r?\n")


def outgoing_message_id(*, triage_id: str, recipient: str, purpose: str) -> str:
    """Stable: the same question, recipient and purpose always give the same Message-ID."""
    digest = hashlib.sha256(f"{triage_id}|{recipient.lower()}|{purpose}".encode()).hexdigest()[:16]
    return f"<{triage_id}.{purpose}.{digest}@bvhk-triage>"


def header_text(value: str, *, limit: int = 200) -> str:
    """Text from a mail made fit for a header we write: no control characters, one line, cut."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


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
    head = EmailMessage(policy=policy.SMTP)
    head["From"] = sender
    head["To"] = recipient
    label = {"follow_up": "vervolg", "review": "ter beoordeling"}.get(summary.get("purpose", ""), summary["theme_name"])
    head["Subject"] = f"[BvhK {label} {triage_id}] {header_text(original_subject) or '(geen onderwerp)'}"
    head["Date"] = date or formatdate(localtime=True)
    head["Message-ID"] = message_id
    head["In-Reply-To"] = original_message_id
    head["References"] = original_message_id
    if reply_to:
        head["Reply-To"] = ", ".join(reply_to)
    head["X-BvhK-Triage"] = triage_id
    head["X-BvhK-Triage-Original"] = original_message_id
    head["Auto-Submitted"] = "auto-generated"
    head["X-Auto-Response-Suppress"] = "All"
    text = MIMEPart(policy=policy.SMTP)
    text.set_content(render("forward.txt.j2", triage_id=triage_id, **summary))
    return with_attached_original(head, text, raw)


def with_attached_original(head: EmailMessage, first: MIMEPart, raw: bytes) -> bytes:
    """`head`'s headers over a multipart/mixed of `first` and the original attached as received.

    The original goes as `message/rfc822`, byte for byte but for its line ends, which become
    CRLF as on the wire (a Maildir stores LF). A line longer than SMTP allows (998 octets)
    cannot travel that way: such an original is attached base64-encoded as `vraag.eml`
    (application/octet-stream), still byte for byte."""
    boundary = _boundary(raw)
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = f'multipart/mixed; boundary="{boundary}"'
    headers = head.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"  # the header block as email folds it
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
    return b"".join((headers, b"\r\n", dash, b"\r\n", first.as_bytes(), b"\r\n", dash, b"\r\n",
                     attachment, dash, b"--\r\n"))


def _boundary(raw: bytes) -> str:
    while True:  # a boundary that occurs nowhere in the original
        boundary = f"bvhk-{secrets.token_hex(12)}"
        if boundary.encode("ascii") not in raw:
            return boundary
