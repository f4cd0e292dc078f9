"""The forward: a short Dutch triage summary on top, the original attached; and its Message-ID."""

from __future__ import annotations

import hashlib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate

from bot.render import render


def outgoing_message_id(*, triage_id: str, recipient: str, purpose: str) -> str:
    """Stable: the same question, recipient and purpose always give the same Message-ID."""
    digest = hashlib.sha256(f"{triage_id}|{recipient.lower()}|{purpose}".encode()).hexdigest()[:16]
    return f"<{triage_id}.{purpose}.{digest}@bvhk-triage>"


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
) -> bytes:
    """The forward: a short Dutch triage summary on top, the original attached unchanged."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"[BvhK {summary['theme_name']}] {original_subject or '(geen onderwerp)'}"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = original_message_id
    msg["References"] = original_message_id
    msg["X-BvhK-Triage"] = triage_id
    msg["X-BvhK-Triage-Original"] = original_message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(render("forward.txt.j2", triage_id=triage_id, **summary))
    original = BytesParser(policy=policy.default).parsebytes(raw)
    msg.add_attachment(original, filename="vraag.eml")
    return msg.as_bytes()
