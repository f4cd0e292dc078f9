"""Raw mail bytes to a `Message` record, or a `ParseError` with a Dutch reason for quarantine.

The MIME tree is read by the standard `email` package. Structure is walked with the compat32
message class, whose accessors tolerate any junk; header values are decoded with
`email.policy.default` (RFC 2047, lenient) and fall back to compat32 decoding where
policy.default chokes. Nothing in an attachment is opened or executed; a TNEF blob
(winmail.dat) is read by `tnefparse` in a child process with a time limit, only for its body
text and the names of what it holds.

Every bound is in `ParseLimits` (`bot.ingest.limits`), so a hostile message is quarantined or cut short, never a
hang. `parse_message` raises nothing but `ParseError`.
"""

from __future__ import annotations

import email.header
import email.utils
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from email import policy
from email.message import Message as MimePart
from email.parser import BytesParser, HeaderParser

from bot.ingest.limits import ParseError, ParseLimits
from bot.ingest.quoting import find_forwarded, parse_address, split_question
from bot.ingest.text import decode_bytes, part_text
from bot.ingest.tnef import Tnef, is_tnef, read_tnef
from bot.message import Attachment, Message

# Headers the screening rules read, copied into `Message.headers` under lower-case names.
SCREENING_HEADERS = (
    "auto-submitted",
    "content-type",
    "list-id",
    "list-unsubscribe",
    "precedence",
    "return-path",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "x-bvhk-triage",
    "x-bvhk-triage-original",
    "x-loop",
)
# Facts parsing derives for screening. A header name cannot contain ":", so these
# pseudo-headers never collide with a real one.
RECEIVED_COUNT = ":received-count"  # number of Received headers
# Message-ID of the message this one reports on or carries: a receipt's Original-Message-ID,
# or the Message-ID in attached headers or an attached message (a bounce's original)
ORIGINAL_MESSAGE_ID = ":original-message-id"

# Header names that show the bytes are a mail at all; random bytes carry none of them.
_MAIL_HEADERS = frozenset(
    {"from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type",
     "received", "return-path", "sender", "reply-to", "in-reply-to", "references"}
)
_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status",
     "message/disposition-notification", "message/global-disposition-notification",
     "message/feedback-report", "text/rfc822-headers", "text/global-headers"}
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)*(?:fw|fwd|doorst|doorgestuurd)\s*:", re.I)
_MSG_ID = re.compile(r"<[^<>\s]{1,900}>")
_BOUNDARY = re.compile(
    rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))|^--([^\r\n]{1,200}?)--[ \t]*\r?$""",
    re.I | re.M,
)
_BOM = b"\xef\xbb\xbf"
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ADDR_SPEC = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
# One address with at most a plain display name: how most mail names its sender. Read as
# policy.default reads it (a test holds the two to each other), in a fraction of the time.
_PLAIN_ADDRESS = re.compile(rf"[ \t]*(?:([A-Za-z][A-Za-z' -]*?)[ \t]*<({_ADDR_SPEC})>|<?({_ADDR_SPEC})>?)[ \t]*")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_OBSOLETE_COLON = re.compile(rb"^([!-9;-~]{1,100})[ \t]+:", re.M)  # "Subject :" (RFC 822 obs-syntax)
def parse_message(
    raw: bytes, *, mailbox: str, source_id: str, limits: ParseLimits = ParseLimits()
) -> Message:
    """Parse one mail. Raises `ParseError` (and nothing else) when it cannot be handled."""
    try:
        return _parse(raw, mailbox=mailbox, source_id=source_id, limits=limits)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("MIME-structuur te diep genest om te lezen") from None
    except MemoryError:
        raise ParseError("bericht te groot om in het geheugen te lezen") from None
    except Exception as exc:  # last line of defence: quarantine instead of stopping the worker
        raise ParseError(f"onverwachte fout bij het lezen ({type(exc).__name__})") from exc


def _parse(raw: bytes, *, mailbox: str, source_id: str, limits: ParseLimits) -> Message:
    if not isinstance(raw, (bytes, bytearray)):
        raise ParseError("geen bytes aangeleverd")
    raw = bytes(raw)
    root = parse_mime(raw, limits=limits)
    names = {name.lower() for name in root.keys()}
    if not names & _MAIL_HEADERS:
        raise ParseError("geen herkenbare kopregels (From, To, Subject, Date): geen e-mailbericht")
    if root.get_content_type() == "message/partial":
        raise ParseError("bericht in delen (message/partial) wordt niet samengevoegd")

    fingerprint = hashlib.sha256(raw).hexdigest()
    defects: list[str] = []
    subject = _decoded_header(root, "subject", limits)
    from_name, from_addr = _first_address(root, "from", limits)
    text, body_parts, tnef = _body(root, limits, defects)
    attachments = _attachments(root, body_parts, tnef, limits)
    if not (text.strip() or subject.strip() or attachments):
        raise ParseError("geen bruikbare inhoud: geen tekst, onderwerp of bijlage")

    sender, sender_name, forwarded_by = from_addr, from_name, ""
    question, signature = split_question(text)
    if _FORWARD_SUBJECT.match(subject) and not _is_report(root):
        original = _forwarded_original(root, text, limits, defects)
        if original is not None:
            sender_name, sender, question, signature = original
            forwarded_by = from_addr

    message_id = _first_msg_id(_raw_header(root, "message-id", limits))
    return Message(
        mailbox=mailbox,
        source_id=source_id,
        message_id=message_id or f"<sha256-{fingerprint}@bvhk-triage.invalid>",
        subject=subject,
        sender=sender,
        sender_name=sender_name,
        to=tuple(addr for _, addr in _addresses(root, "to", limits) if addr),
        cc=tuple(addr for _, addr in _addresses(root, "cc", limits) if addr),
        date=_date(_raw_header(root, "date", limits)),
        in_reply_to=_first_msg_id(_raw_header(root, "in-reply-to", limits)),
        references=tuple(_MSG_ID.findall(_raw_header(root, "references", limits)))[:100],
        headers=_screening_headers(root, limits),
        text=text,
        question=question,
        signature=signature,
        attachments=attachments,
        content_type=root.get_content_type(),
        size=len(raw),
        fingerprint=fingerprint,
        raw=raw,
        forwarded_by=forwarded_by,
        defects=tuple(dict.fromkeys(_defect_names(root) + defects)),
    )


# --- structure -------------------------------------------------------------------------


def _too_deep(raw: bytes, max_depth: int) -> bool:
    """Whether multipart nesting may exceed `max_depth`, judged from the raw bytes before
    the parser runs (an over-estimate).

    The stdlib parser checks every line against every open boundary, so deep nesting costs
    lines x depth; this linear scan refuses such a message first. Each declared boundary
    opens a level and its closing delimiter closes it (and any left open inside it).
    """
    stack: list[bytes] = []
    for match in _BOUNDARY.finditer(raw):
        declared = match.group(1) or match.group(2)
        if declared is not None:
            stack.append(declared)
            if len(stack) > max_depth:
                return True
        elif match.group(3) in stack:
            del stack[len(stack) - 1 - stack[::-1].index(match.group(3)):]
    return False


def parse_mime(raw: bytes, *, limits: ParseLimits = ParseLimits()) -> MimePart:
    """The MIME tree of a mail, within the limits (else `ParseError`).

    An attached message sent base64- or quoted-printable-encoded (against RFC 2046, but
    clients do it) is decoded and parsed as a message in the tree.
    """
    if len(raw) > limits.max_bytes:
        raise ParseError(f"bericht groter dan {_megabytes(limits.max_bytes)} MB")
    root = _mime(raw, limits)
    count = 0
    todo = [(root, 0)]
    while todo:
        part, depth = todo.pop()
        count += 1
        if count > limits.max_parts:
            raise ParseError(f"meer dan {limits.max_parts} MIME-delen")
        if depth > limits.max_depth:
            raise ParseError(f"MIME-structuur dieper genest dan {limits.max_depth} niveaus")
        if sum(len(name) + len(value) for name, value in part.raw_items()) > limits.max_header_bytes:
            raise ParseError(f"kopregels van een MIME-deel groter dan {_megabytes(limits.max_header_bytes)} MB")
        if _is_encoded_message(part):
            part.set_payload([_mime(_decoded_message_bytes(part), limits)])
        if not _is_leaf(part):
            todo.extend((child, depth + 1) for child in subparts(part))
    return root


def _megabytes(size: int) -> str:
    return f"{round(size / 2**20, 1):g}".replace(".", ",")


def _mime(raw: bytes, limits: ParseLimits) -> MimePart:
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    end = _HEADER_END.search(raw)
    split = end.start() if end else len(raw)
    if split > limits.max_header_bytes:  # refused before the parser spends time on it
        raise ParseError(f"kopregels van een MIME-deel groter dan {_megabytes(limits.max_header_bytes)} MB")
    if _too_deep(raw, limits.max_depth):
        raise ParseError(f"MIME-structuur dieper genest dan {limits.max_depth} niveaus")
    # the old syntax "Subject :" would end the header block early
    head = _OBSOLETE_COLON.sub(rb"\1:", raw[:split])
    return BytesParser(policy=_POLICY).parsebytes(head + raw[split:])


class _UnfoldingCompat32(policy.Compat32):
    """compat32, with header values unfolded when read through the message: a folded
    boundary="..." parameter would otherwise never match its delimiter lines."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return super().header_fetch_parse(name, _FOLD.sub("", value) if isinstance(value, str) else value)


_POLICY = _UnfoldingCompat32()


def _is_encoded_message(part: MimePart) -> bool:
    return part.get_content_type() in ("message/rfc822", "message/global") and _transfer_encoding(part) in (
        "base64", "quoted-printable"
    )


def _transfer_encoding(part: MimePart) -> str:
    return str(part.get("content-transfer-encoding", "")).strip().lower()


def _decoded_message_bytes(part: MimePart) -> bytes:
    """The bytes of an encoded attached message. The stdlib parsed the encoded text as if it
    were a message; write it back out and decode it."""
    payload = part.get_payload()
    encoded = payload[0].as_bytes() if isinstance(payload, list) and payload else str(payload).encode(
        "ascii", "surrogateescape"
    )
    holder = MimePart()
    holder["Content-Transfer-Encoding"] = _transfer_encoding(part)
    holder.set_payload(encoded.decode("ascii", "surrogateescape"))
    return holder.get_payload(decode=True) or b""


def subparts(part: MimePart) -> list[MimePart]:
    """The parts directly inside a multipart, or the message inside a message/rfc822 part."""
    if not part.is_multipart():  # asked first: get_payload() of a leaf decodes by its charset
        return []
    return [child for child in part.get_payload() if isinstance(child, MimePart)]


def _is_leaf(part: MimePart) -> bool:
    return part.get_content_type() in _REPORT_TYPES or not part.is_multipart()


def _is_attachment(part: MimePart) -> bool:
    return part.get_content_disposition() == "attachment"


def _is_report(root: MimePart) -> bool:
    return root.get_content_type() == "multipart/report" or any(
        part.get_content_type() in _REPORT_TYPES for part in _walk(root, into_messages=False)
    )


def _walk(part: MimePart, *, into_messages: bool = True) -> Iterator[MimePart]:
    """All parts, depth first; a report part counts as one leaf, and so does an attached
    message unless `into_messages`."""
    yield part
    ctype = part.get_content_type()
    if ctype in _REPORT_TYPES or (ctype.startswith("message/") and not into_messages and part.is_multipart()):
        return
    for child in subparts(part):
        yield from _walk(child, into_messages=into_messages)


def _defect_names(root: MimePart) -> list[str]:
    return [type(defect).__name__ for part in _walk(root) for defect in part.defects]


# --- body text -------------------------------------------------------------------------


def _body_parts(part: MimePart) -> list[MimePart]:
    """The parts a person reads as the body, in order (text/plain preferred over HTML)."""
    ctype = part.get_content_type()
    broken = ctype.startswith("multipart/") and not isinstance(part.get_payload(), list)
    if ctype in ("text/plain", "text/html") or broken:  # a multipart without boundaries is text
        return [] if _is_attachment(part) else [part]
    if ctype == "application/ms-tnef" or ctype in _REPORT_TYPES or not part.is_multipart():
        return []
    if ctype.startswith("message/"):
        return []  # an attached message is listed, its text is not the body
    children = subparts(part)
    if ctype == "multipart/alternative":
        for wanted in ("text/plain", "text/html"):
            for child in children:
                parts = _body_parts(child)
                if parts and parts[0].get_content_type() == wanted:
                    return parts
        return []
    if ctype in ("multipart/related", "multipart/signed", "multipart/report") and children:
        return _body_parts(children[0])
    return [body for child in children for body in _body_parts(child)]


def _body(root: MimePart, limits: ParseLimits, defects: list[str]) -> tuple[str, list[MimePart], Tnef | None]:
    parts = _body_parts(root)
    texts = [part_text(part, limits) for part in parts]
    tnef = None
    for part in _walk(root, into_messages=False):
        if is_tnef(part, _filename(part, limits)):
            try:
                tnef = read_tnef(part.get_payload(decode=True) or b"", limits=limits)
            except ParseError as error:
                defects.append(error.reason)
            break
    text = "\n\n".join(t for t in texts if t)
    if not text.strip() and tnef is not None:
        text = tnef.text
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        defects.append(f"tekst ingekort tot {limits.max_text_chars} tekens")
    return text, parts, tnef


# --- attachments and TNEF --------------------------------------------------------------


def _attachments(
    root: MimePart, body_parts: list[MimePart], tnef: Tnef | None, limits: ParseLimits
) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    skip = {id(part) for part in body_parts}
    skip.update(  # the unchosen alternatives, such as the HTML twin of a plain body
        id(child)
        for part in _walk(root, into_messages=False)
        if part.get_content_type() == "multipart/alternative"
        for child in subparts(part)
        if not _is_attachment(child)
    )
    for part in _walk(root, into_messages=False):
        ctype = part.get_content_type()
        if id(part) in skip:
            continue
        if not _is_leaf(part) and not ctype.startswith("message/"):
            continue
        name = _filename(part, limits)
        if ctype in ("text/plain", "text/html") and not name and not _is_attachment(part):
            continue
        if tnef is not None and is_tnef(part, name):
            found.extend(tnef.attachments)
            continue
        found.append(Attachment(name=name, content_type=ctype, size=_size(part)))
    return tuple(found)


def _filename(part: MimePart, limits: ParseLimits) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (ValueError, TypeError, LookupError, UnicodeError):
        return ""
    if isinstance(name, tuple):  # an undecodable RFC 2231 value
        name = email.utils.collapse_rfc2231_value(name)
    return _decode_text_header("subject", str(name), limits)


def _size(part: MimePart) -> int:
    if part.is_multipart() or part.get_content_type() in _REPORT_TYPES:
        try:
            return len(part.as_bytes())
        except (ValueError, TypeError, LookupError, UnicodeError, AttributeError, KeyError):
            return 0
    payload = part.get_payload(decode=True)
    return len(payload) if isinstance(payload, bytes) else 0


# --- headers ---------------------------------------------------------------------------


def _raw_header(part: MimePart, name: str, limits: ParseLimits) -> str:
    """The first value of a header as it stands (8-bit bytes recovered), unfolded and cut."""
    for key, value in part.raw_items():
        if key.lower() == name:
            unfolded = _FOLD.sub("", str(value)).replace("\r", "").replace("\n", " ")
            return _unescape(unfolded)[: limits.max_header_chars]
    return ""


def _unescape(value: str) -> str:
    """Undo the parser's surrogate escapes of 8-bit header bytes: UTF-8, else detected."""
    if not re.search("[\udc80-\udcff]", value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def _decoded_header(part: MimePart, name: str, limits: ParseLimits) -> str:
    return _decode_text_header(name, _raw_header(part, name, limits), limits)


def _decode_text_header(name: str, value: str, limits: ParseLimits) -> str:
    """RFC 2047 decoding with policy.default; compat32 decoding where policy.default fails."""
    value = value[: limits.max_header_chars]
    if value.isascii() and "=?" not in value:  # nothing to decode: as policy.default reads it (a test holds it)
        return " ".join(value.split())
    try:
        decoded = str(policy.default.header_factory(name, value))
    except Exception:  # policy.default raises many kinds of error on malformed input
        try:
            decoded = str(email.header.make_header(email.header.decode_header(value)))
        except Exception:  # compat32 decoding has its own failures (unknown charset, bad base64)
            decoded = value
    return " ".join(_unescape(decoded).split())


def _addresses(part: MimePart, name: str, limits: ParseLimits) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address header."""
    value = _raw_header(part, name, limits)
    if not value.strip():
        return []
    if plain := _PLAIN_ADDRESS.fullmatch(value):
        display_name, address = (plain[1], plain[2]) if plain[2] else ("", plain[3])
        return [(" ".join(display_name.split()), address.lower())]
    try:
        header = policy.default.header_factory(name, value)
        pairs = [(str(a.display_name), str(a.addr_spec)) for a in header.addresses]
    except Exception:  # policy.default chokes on some real-world address lists
        try:
            pairs = [
                (_decode_text_header("subject", n, limits), a)
                for n, a in email.utils.getaddresses([value])
            ]
        except Exception:  # getaddresses can recurse too deep on pathological input
            pairs = [parse_address(value)]
    return [(" ".join(n.split()), a.strip().lower()) for n, a in pairs if n or a]


def _first_address(part: MimePart, name: str, limits: ParseLimits) -> tuple[str, str]:
    pairs = _addresses(part, name, limits)
    return pairs[0] if pairs else ("", "")


def _first_msg_id(value: str) -> str:
    match = _MSG_ID.search(value)
    if match:
        return match.group(0)
    token = value.strip().split()[0] if value.strip() else ""
    return f"<{token}>" if "@" in token and len(token) < 900 else ""


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _screening_headers(root: MimePart, limits: ParseLimits) -> dict[str, str]:
    present = [key.lower() for key in root.keys()]
    headers = {
        name: " ".join(_raw_header(root, name, limits).split()) for name in SCREENING_HEADERS if name in present
    }
    headers[RECEIVED_COUNT] = str(present.count("received"))
    original = _report_original_id(root, limits)
    if original:
        headers[ORIGINAL_MESSAGE_ID] = original
    return headers


def _report_original_id(root: MimePart, limits: ParseLimits) -> str:
    """The Message-ID of the message a bounce or receipt is about: a receipt's
    Original-Message-ID, else the Message-ID of attached headers or an attached message."""
    for part in _walk(root):
        ctype = part.get_content_type()
        if ctype in ("message/disposition-notification", "message/global-disposition-notification"):
            for fields in [part, *subparts(part)]:
                found = _first_msg_id(_raw_header(fields, "original-message-id", limits))
                if found:
                    return found
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            payload = part.get_payload(decode=True) or b""
            headers = HeaderParser(policy=_POLICY).parsestr(payload.decode("latin-1"))
            found = _first_msg_id(_raw_header(headers, "message-id", limits))
            if found:
                return found
        if ctype in ("message/rfc822", "message/global") and part is not root:
            for inner in subparts(part):
                found = _first_msg_id(_raw_header(inner, "message-id", limits))
                if found:
                    return found
    return ""


# --- forwards --------------------------------------------------------------------------


def _forwarded_original(
    root: MimePart, text: str, limits: ParseLimits, defects: list[str]
) -> tuple[str, str, str, str] | None:
    """(name, address, question, signature) of the original asker of a forwarded question.

    An attached message/rfc822 is the original (forward as attachment); else the forwarded
    header block in the text ("Van:/From:" after a forward line) names it.
    """
    for part in subparts(root):
        if part.get_content_type() in ("message/rfc822", "message/global"):
            inner = next(iter(subparts(part)), None)
            if inner is None:
                continue
            name, addr = _first_address(inner, "from", limits)
            inner_text, _, _ = _body(inner, limits, defects)
            question, signature = split_question(inner_text)
            return name, addr, question, signature
    forwarded = find_forwarded(text)
    if forwarded is None:
        return None
    question, signature = split_question(forwarded.text)
    return forwarded.sender_name, forwarded.sender, question, signature
