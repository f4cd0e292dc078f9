"""The `maildir` kind: a local folder in Maildir layout, the embedded default.

Read only: files are never moved from new/ to cur/, renamed or flagged. The cursor is the
last key handled; keys begin with the delivery time, so they sort in arrival order (a
file a listing missed is caught by a second listing, and a file that shows up late with
an earlier key by reading `LOOK_BACK` seconds before the cursor again, see `_read`). Sent
items live in the Maildir++ subfolder `.Sent`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bot.ingest.mailboxes.base import Fetched, MailboxError


LOOK_BACK = 60  # seconds of keys before the cursor read again: a rename into new/ that came late


class MaildirMailbox:
    can_mark = False  # read only: marks are for the shared mailboxes people read in Outlook

    def __init__(self, *, name: str, path: Path, sent_folder: str = ".Sent") -> None:
        self.name = name
        self.path = path
        self.sent_path = path / sent_folder

    def fetch(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.path, cursor, look_back=True)

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        if not self.sent_path.is_dir():
            return iter(())
        return self._read(self.sent_path, cursor)

    def mark(self, source_id: str, labels) -> None:
        """Nothing: a Maildir is never changed."""

    def check(self) -> str:
        missing = [sub for sub in ("cur", "new") if not (self.path / sub).is_dir()]
        if missing:
            raise MailboxError(f"map {self.path} is geen Maildir (mist {', '.join(missing)}/)")
        if not os.access(self.path / "new", os.R_OK):
            raise MailboxError(f"map {self.path} is niet leesbaar")
        return f"Maildir {self.path}: {len(self._keys(self.path))} berichten leesbaar"

    def close(self) -> None:
        pass

    def _keys(self, folder: Path) -> dict[str, Path]:
        keys: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(folder / sub)
            except FileNotFoundError:
                raise MailboxError(f"map {folder / sub} bestaat niet") from None
            with entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    keys[entry.name.split(":", 1)[0]] = Path(entry.path)
        return keys

    def _read(self, folder: Path, cursor: str, *, look_back: bool = False) -> Iterator[Fetched]:
        """The messages with keys after `cursor`, in key order.

        A listing taken while mail is renamed into new/ can miss a file that was there
        before files it does list (a directory lists in the file system's order, not the
        keys'), and the cursor would pass it for good. So once the listed keys are read,
        the folder is listed again: a key the first listing missed, up to the last key
        read, is read too, with the cursor left where it is. A file can also be renamed
        into new/ after a poll read later keys (two deliveries in one second, or a slow
        one): with `look_back`, the keys of the `LOOK_BACK` seconds before the cursor are
        read again; the caller passes over what it handled before
        (`storage.repo.queue_fetched`). Sent items are not read again: an old reply read
        twice could close a question a follow-up reopened."""
        listed = self._keys(folder)
        last = cursor
        for key in sorted(k for k in listed if k > (_looking_back(cursor) if look_back else cursor)):
            if (raw := self._raw(folder, listed, key)) is not None:
                yield Fetched(source_id=key, raw=raw, cursor=max(key, cursor))
            last = max(key, last)
        again = self._keys(folder)
        for key in sorted(k for k in again if cursor < k <= last and k not in listed):
            if (raw := self._raw(folder, again, key)) is not None:
                yield Fetched(source_id=key, raw=raw, cursor=last)

    def _raw(self, folder: Path, keys: dict[str, Path], key: str) -> bytes | None:
        try:
            return keys[key].read_bytes()
        except FileNotFoundError:
            # moved by a mail client between listing and reading: look it up again
            again = self._keys(folder).get(key)
            return again.read_bytes() if again is not None else None


def _looking_back(cursor: str) -> str:
    """The key `LOOK_BACK` seconds before the cursor's delivery time (a key that does not
    begin with one: the cursor itself)."""
    seconds = cursor.split(".", 1)[0]
    return str(int(seconds) - LOOK_BACK) if seconds.isdigit() else cursor
