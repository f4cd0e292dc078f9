"""What parsing one message may cost (`ParseLimits`), and how it fails (`ParseError`)."""

from __future__ import annotations

from dataclasses import dataclass


class ParseError(Exception):
    """The message cannot be handled; `reason` is one Dutch line without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on the work spent on one message."""

    max_bytes: int = 25 * 1024 * 1024  # larger messages are quarantined
    max_depth: int = 20  # deeper MIME nesting is quarantined
    max_parts: int = 1000  # more MIME parts are quarantined
    max_header_bytes: int = 1024 * 1024  # a larger header block (of any part) is quarantined
    max_header_chars: int = 16_384  # a longer header value is cut before decoding
    max_text_chars: int = 1_000_000  # the extracted text is cut here
    max_html_chars: int = 2_000_000  # HTML beyond this is not converted to text
    tnef_seconds: float = 10.0  # the TNEF reader is stopped after this
