"""The question itself: apart from quoted earlier mails, signature and disclaimer.

Line patterns for what Dutch and English mail clients write: Outlook header blocks
("Van:/Verzonden:/Aan:/Onderwerp:", "From:/Sent:/To:/Subject:"), separator lines
("-----Oorspronkelijk bericht-----", "---------- Forwarded message ----------"), reply
intros ("Op <datum> schreef <naam>:", "On ... wrote:"), quoted lines ("> ..."), sign-offs
("Met vriendelijke groet", "Mvg", "Kind regards", "-- ") and the standard disclaimers of
Dutch government mail. (mail-parser-reply took bullet lists for signatures and missed Dutch
Gmail intros; quotequail is Dutch-aware but slows down badly on long hostile lines.)

Every pattern looks at one line at a time, or a few lines ahead, so the work is linear in
the text; only the first `MAX_LINES` lines are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINES = 5000  # lines beyond this are not read: a question is never that long
_SCAN = 1000  # characters of a line the patterns look at

_HEADER = re.compile(  # "Van: ...", "Beantwoorden aan: ...", "*From:* ..." (Gmail writes bold so)
    r"^\s*\*?(?P<name>[A-Za-z][A-Za-z-]{0,15}(?: [A-Za-z]{1,10})?)\*?\s*:\*?[ \t]*(?P<value>.*)$"
)
_HEADER_KINDS = {
    "van": "from", "from": "from", "afzender": "from",
    "verzonden": "date", "verstuurd": "date", "datum": "date", "sent": "date", "date": "date",
    "aan": "to", "to": "to", "cc": "cc", "kopie": "cc", "bcc": "bcc",
    "onderwerp": "subject", "subject": "subject",
    "belangrijkheid": "importance", "importance": "importance",
    "bijlagen": "attachments", "attachments": "attachments",
    "beantwoorden aan": "reply-to", "reply-to": "reply-to",
}
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:oorspronkelijk bericht|original message|forwarded message|"
    r"doorgestuurd bericht|doorgestuurde e-?mail)\s*-{2,}"
    r"|(?:begin\s+)?(?:forwarded message|doorgestuurd bericht)\s*:?)\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*[_-]{10,}\s*$")
_INTRO = re.compile(
    r"^\s*(?:op\s.{1,150}?\sschreef\b.{0,150}:"
    r"|op\s.{1,150}?\sheeft\s.{1,150}?\sgeschreven\s*:"
    r"|on\s.{1,150}?\swrote\s*:"
    r"|.{1,100}\sschreef\sop\s.{1,100}:"
    r"|.{1,100}\swrote\son\s.{1,100}:)\s*$",
    re.I,
)
_SIGN_OFF_WORDS = (
    r"(?:(?:met\s+)?(?:vriendelijke|hartelijke|collegiale|beste|warme)\s+groet(?:en)?"
    r"|groet(?:en|jes)?|gr\.?|m\.?\s?v\.?\s?g\.?|hoogachtend"
    r"|(?:with\s+)?(?:kind|best|warm)\s+regards|regards)\b"
)
_SIGN_OFF = re.compile(rf"^{_SIGN_OFF_WORDS}[\s,.!]*(?:[^\s?][^?]{{0,50}})?$", re.I)  # may end in a name
_BARE_SIGN_OFF = re.compile(rf"^{_SIGN_OFF_WORDS}[\s,.!]*$", re.I)
_SENT_FROM = re.compile(
    r"^(?:(?:verzonden|verstuurd)\s+(?:vanaf|van|met)\s+mijn\b|sent\s+from\s+my\b"
    r"|outlook\s+voor\s+(?:ios|android)\s+downloaden|get\s+outlook\s+for\s+(?:ios|android))",
    re.I,
)
_DISCLAIMER = re.compile(
    r"dit\s+(?:e-?mail)?bericht\s+kan\s+informatie\s+bevatten\s+die\s+niet\s+voor\s+u\s+(?:is\s+)?bestemd"
    r"|this\s+(?:e-?mail\s+)?message\s+may\s+contain\s+information\s+that\s+is\s+not\s+intended\s+for\s+you"
    r"|dit\s+(?:e-?mail)?bericht\s+is\s+(?:uitsluitend|alleen)\s+bestemd\s+voor"
    r"|de\s+informatie\s+(?:verzonden\s+)?(?:in|met)\s+dit\s+e-?mail(?:bericht)?\s+is\s+"
    r"(?:uitsluitend|vertrouwelijk)"
    r"|aan\s+dit\s+(?:e-?mail)?bericht\s+kunnen\s+geen\s+rechten\s+worden\s+ontleend",
    re.I,
)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_RULE_LINE = re.compile(r"^\s*[-_=*~]{3,}\s*$")


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The forwarded message inside a forward, as its header block and text show it."""

    sender_name: str
    sender: str  # lower-case address; "" when the header block names no address
    subject: str
    text: str  # the forwarded message's text, with its own quoted history
    note: str  # what the forwarder wrote above it


def split_question(text: str, *, _depth: int = 0) -> tuple[str, str]:
    """(question, signature): the new text alone, and its signature block.

    Quoted history, forward wrappers and disclaimers are dropped. A pure forward (nothing
    above the forwarded message but a signature) yields the forwarded question.
    """
    lines = _lines(text)
    fresh = "\n".join(_fresh_lines(lines))
    disclaimer = _DISCLAIMER.search(fresh)
    if disclaimer:
        fresh = fresh[: fresh.rfind("\n", 0, disclaimer.start()) + 1]
    question_lines, signature_lines = _cut_signature(fresh.split("\n"))
    question, signature = _tidy(question_lines), _tidy(signature_lines)
    if not question and _depth < 3:
        forwarded = find_forwarded(text)
        if forwarded is not None and forwarded.text:
            return split_question(forwarded.text, _depth=_depth + 1)
    return question, signature


def find_forwarded(text: str) -> Forwarded | None:
    """The forwarded message when the first earlier mail in `text` is a forwarded header block
    naming its sender ("Van:/From:"); None for a reply ("Op ... schreef:") or plain text."""
    lines = _lines(text)
    for i in range(len(lines)):
        if _intro_span(lines, i) or lines[i].lstrip().startswith(">"):
            return None
        block = _history_block(lines, i)
        if block is None:
            continue
        fields, body_start = block
        if "from" not in fields:
            return None
        name, address = parse_address(fields["from"])
        return Forwarded(
            sender_name=name,
            sender=address,
            subject=fields.get("subject", ""),
            text="\n".join(lines[body_start:]).strip(),
            note=_tidy(lines[:i]),
        )
    return None


def parse_address(value: str) -> tuple[str, str]:
    """(name, lower-case address) from a header value as mail clients quote it in text:
    'Naam <a@b.nl>', 'Naam [mailto:a@b.nl]', 'a@b.nl (Naam)', or a name without address."""
    value = " ".join(value.split())[:_SCAN]
    value = re.sub(r"[\[<]mailto:([^\]>\s]+)[\]>]", r"<\1>", value, flags=re.I)
    match = _ADDRESS.search(value)
    if match is None:
        return _bare_name(value), ""
    name = value[: value.find("<")] if "<" in value else value.replace(match.group(0), "")
    return _bare_name(name), match.group(0).lower()


def _bare_name(name: str) -> str:
    name = name.strip(" \t\"'<>[],;")
    if name.startswith("(") and name.endswith(")"):  # 'a@b.nl (Naam)'
        name = name[1:-1]
    return name.strip(" \"'")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:MAX_LINES]


def _fresh_lines(lines: list[str]) -> list[str]:
    """The lines written for this mail: up to the first earlier mail, without quoted lines
    (text written between or below quoted lines is kept)."""
    fresh = []
    i = 0
    while i < len(lines):
        if _history_block(lines, i) is not None:
            break
        span = _intro_span(lines, i)
        if span:
            j = _skip_blank(lines, i + span)
            if j >= len(lines) or not lines[j].lstrip().startswith(">"):
                break  # an intro without quote marks: the rest is the earlier mail
            while j < len(lines) and (lines[j].lstrip().startswith(">") or not lines[j].strip()):
                j += 1
            i = j
            continue
        if not lines[i].lstrip().startswith(">"):
            fresh.append(lines[i])
        i += 1
    return fresh


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _intro_span(lines: list[str], i: int) -> int:
    """1 or 2 when a reply intro ("Op ... schreef ...:") starts at line i (2: wrapped), else 0."""
    line = lines[i].strip()[:_SCAN]
    if not line or len(line) > 400:
        return 0
    if _INTRO.match(line):
        return 1
    if i + 1 < len(lines) and not line.endswith(":") and re.match(r"(?i)op\s|on\s", line):
        if _INTRO.match(f"{line} {lines[i + 1].strip()[:_SCAN]}"):
            return 2
    return 0


def _header_kind(line: str) -> tuple[str, str] | None:
    match = _HEADER.match(line[:_SCAN])
    if match is None:
        return None
    kind = _HEADER_KINDS.get(" ".join(match.group("name").lower().split()))
    return (kind, match.group("value").strip()) if kind else None


def _header_run(lines: list[str], i: int) -> tuple[dict[str, str], int]:
    """The header fields of a block starting at line i, and the line after the block.
    A single blank line between fields is allowed (HTML converted to text)."""
    fields: dict[str, str] = {}
    last = ""
    j = i
    end = i
    while j < len(lines) and j < i + 30:
        if not lines[j].strip():
            nxt = j + 1
            if nxt < len(lines) and lines[nxt].strip() and _header_kind(lines[nxt]) and fields:
                j = nxt
                continue
            break
        found = _header_kind(lines[j])
        if found:
            last = found[0]
            fields.setdefault(last, found[1])
        elif last in ("to", "cc", "bcc") or (last == "from" and "@" not in fields["from"]):
            fields[last] = f"{fields[last]} {lines[j].strip()}"  # a wrapped address line
        else:
            break
        j += 1
        end = j
    return fields, end


def _history_block(lines: list[str], i: int) -> tuple[dict[str, str], int] | None:
    """(header fields, first body line) when an earlier mail starts at line i: a separator
    line, or a header block naming the sender ("Van:/From:") with one more field."""
    line = lines[i]
    if _SEPARATOR.match(line[:_SCAN]):
        start = _skip_blank(lines, i + 1)
        fields, end = _header_run(lines, start)
        return fields, end if fields else i + 1
    if _RULE.match(line[:_SCAN]):
        start = _skip_blank(lines, i + 1)
        if start < len(lines) and (_header_kind(lines[start]) or ("", ""))[0] == "from":
            fields, end = _header_run(lines, start)
            if len(fields) >= 2:
                return fields, end
        return None
    found = _header_kind(line)
    if found is None or found[0] != "from":
        return None
    fields, end = _header_run(lines, i)
    return (fields, end) if len(fields) >= 2 else None


def _cut_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split at the first sign-off line. On the first line only a bare sign-off counts
    ("Met vriendelijke groet,"), not "Groeten uit Breda en een vraag: ..."."""
    first = _skip_blank(lines, 0)
    for idx in range(first, len(lines)):
        line = lines[idx].strip()[:_SCAN]
        found = line == "--" or _SENT_FROM.match(line) or _SIGN_OFF.match(line)
        if found and (idx > first or _BARE_SIGN_OFF.match(line)):
            return lines[:idx], lines[idx:]
    return lines, []


def _tidy(lines: list[str]) -> str:
    """Joined, without trailing spaces, separator lines at the end, or runs of empty lines."""
    kept = [line.rstrip() for line in lines]
    while kept and (not kept[-1].strip() or _RULE_LINE.match(kept[-1])):
        kept.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
