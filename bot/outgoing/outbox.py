"""The `outbox` delivery kind: a local Maildir per recipient (the embedded default)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from bot.outgoing.base import DeliveryError


class OutboxSender:
    """The `outbox` kind: a local Maildir per recipient (the embedded default).

    The file name derives from the Message-ID, so delivering the same message twice
    leaves one file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._made: set[Path] = set()  # recipients' Maildirs made (or found) by this sender

    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        folder = self.folder_of(recipient)
        name = hashlib.sha256(message_id.encode()).hexdigest()[:24]
        if folder not in self._made:
            for sub in ("tmp", "new", "cur"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        if any((folder / sub / name).exists() for sub in ("new", "cur")):
            return
        tmp = folder / "tmp" / f"{name}.{os.getpid()}.{time.monotonic_ns()}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, folder / "new" / name)
        except OSError as exc:
            self._made.discard(folder)  # made again at the next try, should it have gone meanwhile
            raise DeliveryError(f"outbox {folder}: {exc.strerror}") from None

    def folder_of(self, recipient: str) -> Path:
        """The recipient's Maildir: one folder directly under the outbox, whatever the address."""
        name = recipient.strip().lower()
        if not name or name in (".", "..") or any(c in name for c in "/\\\0") or name.startswith("."):
            raise DeliveryError(f"outbox: ontvanger '{recipient[:80]}' is geen bruikbare mapnaam")
        return self.path / name

    def check(self) -> str:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"outbox {self.path}: {exc.strerror}") from None
        if not os.access(self.path, os.W_OK):
            raise DeliveryError(f"outbox {self.path}: niet schrijfbaar")
        return f"outbox {self.path}: schrijfbaar"
