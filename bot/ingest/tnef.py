"""TNEF (winmail.dat): its body text and the names of what it holds, read by `tnefparse` in a
child process with a time limit, since a hostile blob can make tnefparse loop for a long time.
Nothing in it is opened or executed."""

from __future__ import annotations

import json
import mimetypes
import subprocess
import sys
from dataclasses import dataclass
from email.message import Message as MimePart

from bot.ingest.limits import ParseError, ParseLimits
from bot.ingest.text import html_to_text, normalise_text
from bot.message import Attachment

_TNEF_CHILD = r"""
import json, logging, sys
logging.disable(logging.CRITICAL)
from tnefparse import TNEF

def text(value):
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("cp1252", "replace")
    return str(value or "")

tnef = TNEF(sys.stdin.buffer.read(), do_checksum=False)
json.dump({
    "body": text(tnef.body),
    "html": text(tnef.htmlbody),
    "attachments": [[text(a.long_filename()), len(a.data or b"")] for a in tnef.attachments],
}, sys.stdout)
"""


@dataclass(frozen=True, slots=True)
class Tnef:
    """What a TNEF blob holds: body text and the attachments it lists (never opened)."""

    text: str
    attachments: tuple[Attachment, ...]


def is_tnef(part: MimePart, name: str) -> bool:
    return part.get_content_type() == "application/ms-tnef" or name.lower() == "winmail.dat"


def read_tnef(data: bytes, *, limits: ParseLimits = ParseLimits()) -> Tnef:
    """Body text and attachment list of a TNEF blob (winmail.dat), read in a child process.

    tnefparse trusts the counts inside the blob, so a hostile blob can make it loop for a
    very long time; the child process is stopped after `limits.tnef_seconds`.
    """
    if not data.startswith(b"\x78\x9f\x3e\x22"):
        raise ParseError("TNEF-bijlage onleesbaar: geen TNEF-handtekening")
    if not sys.executable:
        raise ParseError("TNEF-bijlage niet gelezen: geen Python-interpreter beschikbaar")
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _TNEF_CHILD],
            input=data, capture_output=True, timeout=limits.tnef_seconds, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(f"TNEF-bijlage niet gelezen binnen {limits.tnef_seconds:g} seconden") from None
    except OSError:
        raise ParseError("TNEF-bijlage niet gelezen: hulpproces start niet") from None
    if done.returncode != 0:
        raise ParseError("TNEF-bijlage onleesbaar")
    try:
        result = json.loads(done.stdout)
        body, html = str(result["body"]), str(result["html"])
        listed = [(str(name), int(size)) for name, size in result["attachments"]]
    except (ValueError, KeyError, TypeError):
        raise ParseError("TNEF-bijlage onleesbaar") from None
    text = body if body.strip() else html_to_text(html, limits) if html.strip() else ""
    attachments = tuple(
        Attachment(name, mimetypes.guess_type(name)[0] or "application/octet-stream", size) for name, size in listed
    )
    return Tnef(text=normalise_text(text)[: limits.max_text_chars], attachments=attachments)
