"""The `mailbox` delivery kind: send through an ews or graph mailbox as its shared address."""

from __future__ import annotations

from bot.ingest.mailboxes import MailboxError, open_mailbox
from bot.outgoing.base import DeliveryError


class MailboxSender:
    """Delivery kind `mailbox`: send through an ews or graph mailbox as its shared address."""

    def __init__(self, mailbox) -> None:
        self.mailbox = mailbox

    @classmethod
    def from_config(cls, config) -> "MailboxSender":
        if config.kind not in ("ews", "graph"):
            raise DeliveryError(f"delivery.mailbox '{config.name}' is kind {config.kind}: alleen ews of graph "
                                "kan als de gedeelde mailbox versturen")
        try:
            return cls(open_mailbox(config))
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None

    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        try:
            self.mailbox.send(payload=payload, recipient=recipient, message_id=message_id)
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None

    def check(self) -> str:
        try:
            return f"verzenden via mailbox {self.mailbox.name}: {self.mailbox.check()}"
        except MailboxError as exc:
            raise DeliveryError(str(exc)) from None
