"""The Maildir reader: every message read, also while mail is being delivered, and also a file
renamed into new/ late with an earlier key. The last minute before the cursor is read again
(the store passes over what it handled, `storage.repo.queue_fetched`); nothing older is."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.ingest.mailboxes.maildir import LOOK_BACK, MaildirMailbox
from tests.paths import FIXTURES

RAW = (FIXTURES / "mail" / "question-header-injection.eml").read_bytes()


def maildir(tmp_path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    return tmp_path


def deliver(folder: Path, n: int) -> str:
    """As an MTA does: written in tmp/, renamed into new/; the key begins with the time."""
    key = f"{1_800_000_000 + n}.M{n:06d}P1.host"
    (folder / "tmp" / key).write_bytes(RAW)
    (folder / "tmp" / key).rename(folder / "new" / key)
    return key


def read_all(mailbox: MaildirMailbox, cursor: str = "") -> tuple[list[str], str]:
    keys = []
    for item in mailbox.fetch(cursor):
        keys.append(item.source_id)
        cursor = item.cursor
    return keys, cursor


class MissesOnce(MaildirMailbox):
    """The first listing misses one file, as a listing taken during a rename can."""

    missed: str = ""

    def _keys(self, folder):
        keys = super()._keys(folder)
        if self.missed in keys and not getattr(self, "_once", False):
            self._once = True
            del keys[self.missed]
        return keys


def test_a_file_the_first_listing_missed_is_read_in_the_same_poll_and_the_cursor_stays(tmp_path):
    folder = maildir(tmp_path)
    keys = [deliver(folder, n) for n in range(5)]
    mailbox = MissesOnce(name="box", path=folder)
    mailbox.missed = keys[2]
    read, cursor = read_all(mailbox)
    assert read == [keys[0], keys[1], keys[3], keys[4], keys[2]]
    assert cursor == keys[4]
    assert read_all(mailbox, cursor) == (keys, cursor)  # the last minute again, the cursor where it was


def test_a_file_renamed_late_with_an_earlier_key_is_read_by_the_next_poll(tmp_path):
    folder = maildir(tmp_path)
    old = [deliver(folder, n) for n in range(0, 10)]
    mailbox = MaildirMailbox(name="box", path=folder)
    _, cursor = read_all(mailbox)
    late = [deliver(folder, n) for n in (LOOK_BACK + 20, LOOK_BACK + 40)]
    _, cursor = read_all(mailbox, cursor)
    assert cursor == late[-1]
    slow = deliver(folder, LOOK_BACK + 30)  # delivered before late[-1], renamed into new/ after it was read
    read, after = read_all(mailbox, cursor)
    assert slow in read and after == cursor
    assert not set(old) & set(read)  # more than a minute before the cursor: not read again


def test_every_message_is_read_once_while_mail_is_delivered(tmp_path):
    # Polls run while another thread delivers: no key may be passed over by the cursor.
    folder = maildir(tmp_path)
    delivered: list[str] = []
    writer = threading.Thread(target=lambda: delivered.extend(deliver(folder, n) for n in range(3000)))
    mailbox = MaildirMailbox(name="box", path=folder)
    read, cursor = [], ""
    writer.start()
    while writer.is_alive():
        keys, cursor = read_all(mailbox, cursor)
        read += keys
    keys, cursor = read_all(mailbox, cursor)
    read += keys
    assert set(read) == set(delivered)
