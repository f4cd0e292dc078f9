"""What every delivery kind is: a `Sender`, which raises `DeliveryError` when it cannot send.

The routing decision and the composed message are stored first (`bot.service.worker`);
sending reads the stored deliveries, so a crash between the two loses nothing, and each
message carries a stable Message-ID so a resend after an unknown outcome is recognisable.
"""

from __future__ import annotations

from typing import Protocol


class DeliveryError(Exception):
    """Sending failed: one line, no personal data."""


class Sender(Protocol):
    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        """Deliver, or raise DeliveryError. Must be safe to call twice for one message_id."""

    def check(self) -> str: ...
