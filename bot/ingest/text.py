"""The readable text of a MIME part: charsets decoded (declared first, detected as a fallback)
and HTML, Outlook's Word HTML included, turned into plain text with inscriptis."""

from __future__ import annotations

import codecs
import re
from email.message import Message as MimePart

import charset_normalizer
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement

from bot.ingest.limits import ParseLimits

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([\w.:-]{1,40})""", re.I)
# Codecs Python knows that are no mail charset; a label naming one is treated as unknown.
_NOT_MAIL_CHARSETS = frozenset(
    {"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined", "mbcs", "oem"}
)
# Labels of 8-bit charsets; bytes that are valid UTF-8 under such a label are read as UTF-8.
_SINGLE_BYTE = re.compile(r"^(?:ascii|iso8859_\d+|cp125\d|koi8_[ru]|mac_\w+)$")
_LATIN1_LIKE = frozenset({"ascii", "iso8859_1", "cp1252"})
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
# Word (Outlook) HTML sets paragraph margins to 0 in its style sheet and writes empty
# paragraphs for blank lines; inscriptis ignores style sheets, so say it here.
_WORD_CSS = dict(CSS_PROFILES["strict"])
_WORD_CSS["p"] = HtmlElement(display=Display.block, margin_before=0, margin_after=0)
_WORD_HTML_CONFIG = ParserConfig(css=_WORD_CSS)
_WORD_MARKS = ("urn:schemas-microsoft-com:office", "MsoNormal")
_DETECT_SAMPLE = 64 * 1024


def part_text(part: MimePart, limits: ParseLimits = ParseLimits()) -> str:
    """The readable text of one text/plain or text/html part, charset decoded."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    is_html = part.get_content_type() == "text/html"
    payload = payload[: (limits.max_html_chars if is_html else limits.max_text_chars) * 4]
    charset = part.get_content_charset()
    if is_html and not charset:
        meta = _META_CHARSET.search(payload[:4096])
        charset = meta.group(1).decode("ascii", "replace") if meta else None
    text = decode_bytes(payload, charset)
    return normalise_text(html_to_text(text, limits) if is_html else text)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text by the declared charset, else by detection; never raises.

    An iso-8859-1 or ascii label is read as windows-1252 (as browsers do), and bytes that are
    valid UTF-8 under an 8-bit label are read as UTF-8: the usual cause of mojibake is a
    client that labels UTF-8 as latin-1.
    """
    codec = _codec(charset)
    if codec is not None:
        if _SINGLE_BYTE.match(codec) and not data.isascii():
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        if codec in _LATIN1_LIKE:
            codec = "cp1252"
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError):
            if codec == "cp1252":
                return data.decode("latin-1")
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode(_detect(data[:_DETECT_SAMPLE]), "replace")


def _detect(sample: bytes) -> str:
    """charset-normalizer's guess, with windows-1252 winning ties: detection is weak on
    short texts, and undeclared 8-bit mail here is mostly Western European."""
    matches = list(charset_normalizer.from_bytes(sample))
    if not matches:
        return "cp1252"
    least = min(match.chaos for match in matches)
    if any(match.chaos <= least and "cp1252" in match.could_be_from_charset for match in matches):
        return "cp1252"
    return matches[0].encoding if _codec(matches[0].encoding) else "cp1252"


def _codec(charset: str | None) -> str | None:
    """The Python codec name for a charset label, or None for unknown or unsuitable labels."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    if label in ("unicode-1-1-utf-7", "utf7"):
        label = "utf-7"
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    name = info.name.replace("-", "_")
    if name in _NOT_MAIL_CHARSETS or not getattr(info, "_is_text_encoding", True):  # rot13, zlib, ...
        return None
    return name


def html_to_text(html: str, limits: ParseLimits = ParseLimits()) -> str:
    """HTML (Outlook/Word included) to plain text with inscriptis; style and comments dropped."""
    if len(html) > limits.max_html_chars:
        html = html[: limits.max_html_chars]
    html = html.replace("\x00", "")
    head = html[:20_000]
    config = _WORD_HTML_CONFIG if any(mark in head for mark in _WORD_MARKS) else _HTML_CONFIG
    try:
        return get_text(html, config)
    except (ValueError, TypeError, RecursionError):
        return re.sub(r"<[^>]{0,2000}>", " ", html)


def normalise_text(text: str) -> str:
    """Line endings to \\n, no trailing spaces, at most one empty line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n").rstrip()
