"""The imap kind against a private Dovecot (tests/servers.py): incremental, read-only, safe."""

from __future__ import annotations

import datetime as dt
import subprocess
from email.message import EmailMessage

import pytest

from bot.ingest.mailboxes.base import MailboxError
from bot.ingest.mailboxes.imap import ImapCursor, ImapMailbox, keyword

pytestmark = pytest.mark.server


def mail(n: int, *, message_id: str | None = None, in_reply_to: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = "raadsonderzoeker@rvdk.example"
    msg["To"] = "bvhk@ind.example"
    msg["Subject"] = f"Vraag {n} over een ots"
    msg["Date"] = "Mon, 05 May 2025 10:00:00 +0200"
    msg["Message-ID"] = message_id or f"<vraag-{n}@rvdk.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(f"Geachte contactpersoon, vraag nummer {n}.\n")
    return bytes(msg)


def drain(mailbox, cursor: str = "", *, sent: bool = False):
    items = list(mailbox.sent_items(cursor) if sent else mailbox.fetch(cursor))
    return items, (items[-1].cursor if items else cursor)


def flags(dovecot, user: str, folder: str = "INBOX") -> dict[int, tuple]:
    client = dovecot.client(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}
    finally:
        client.logout()


def test_reads_what_is_new_since_the_cursor_and_changes_nothing(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1), mail(2)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        items, cursor = drain(box)
        assert [i.source_id for i in items] == ["<vraag-1@rvdk.example>", "<vraag-2@rvdk.example>"]
        assert b"vraag nummer 1" in items[0].raw
        assert drain(box, cursor)[0] == []  # nothing new
        dovecot.append(imap_user, [mail(3)])
        items, cursor = drain(box, cursor)
        assert [i.source_id for i in items] == ["<vraag-3@rvdk.example>"]
    finally:
        box.close()
    # read-only: no \Seen, no \Recent cleared by us, nothing moved or deleted
    assert all(b"\\Seen" not in f and b"\\Deleted" not in f for f in flags(dovecot, imap_user).values())
    assert len(flags(dovecot, imap_user)) == 3


def test_cursor_holds_uidvalidity_uid_and_modseq_and_a_crash_rereads(dovecot, imap_user):
    dovecot.append(imap_user, [mail(n) for n in range(1, 4)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        items, last = drain(box)
        cursors = [ImapCursor.decode(i.cursor) for i in items]
        assert [c.uid for c in cursors] == [1, 2, 3]
        assert len({c.uidvalidity for c in cursors}) == 1 and cursors[0].uidvalidity > 0
        assert cursors[-1].modseq > 0  # Dovecot offers CONDSTORE: the folder's HIGHESTMODSEQ
        assert cursors[0].modseq == 0  # mid-batch: no shortcut may be taken from it
        # the worker stored only the first item's cursor, then crashed: the rest is read again
        again, _ = drain(box, items[0].cursor)
        assert [i.source_id for i in again] == [items[1].source_id, items[2].source_id]
    finally:
        box.close()


def test_the_uid_range_gotcha_does_not_return_the_last_message_again(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        _, cursor = drain(box)
        # make UIDNEXT run ahead of the last UID: append and expunge a message
        client = dovecot.client(imap_user)
        client.append("INBOX", mail(99))
        client.select_folder("INBOX")
        client.delete_messages([2])
        client.expunge()
        client.logout()
        assert drain(box, cursor)[0] == []
    finally:
        box.close()


def test_changed_uidvalidity_resyncs_and_names_items_by_message_id(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1), mail(2)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        first, cursor = drain(box)
        stale = ImapCursor.decode(cursor)
        forged = ImapCursor(stale.uidvalidity - 1, stale.uid, stale.modseq, stale.day).encode()
        dovecot.append(imap_user, [mail(3)])
        again, new_cursor = drain(box, forged)
    finally:
        box.close()
    # everything is handed out again under the same names, so the worker's
    # "already handled" check (by source id = Message-ID) skips the old ones
    assert [i.source_id for i in again] == [i.source_id for i in first] + ["<vraag-3@rvdk.example>"]
    assert ImapCursor.decode(new_cursor).uidvalidity == stale.uidvalidity


def test_message_without_message_id_gets_a_uid_name(dovecot, imap_user):
    raw = b"From: a@rvdk.example\r\nSubject: zonder id\r\n\r\ntekst\r\n"
    dovecot.append(imap_user, [raw])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        (item,), _ = drain(box)
    finally:
        box.close()
    assert item.source_id.startswith("uid:") and item.source_id.endswith(":1")


def test_since_passes_over_older_mail_on_the_first_read(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1)], when=dt.datetime(2024, 1, 10, tzinfo=dt.timezone.utc))
    dovecot.append(imap_user, [mail(2)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user, since=dt.date.today() - dt.timedelta(days=7)))
    try:
        items, _ = drain(box)
    finally:
        box.close()
    assert [i.source_id for i in items] == ["<vraag-2@rvdk.example>"]


def test_sent_items_give_only_the_headers_reply_detection_needs(dovecot, imap_user):
    dovecot.append(imap_user, [mail(7, message_id="<antwoord-7@ind.example>", in_reply_to="<vraag-7@rvdk.example>")],
                   folder="Sent")
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        (item,), cursor = drain(box, sent=True)
        assert drain(box, cursor, sent=True)[0] == []
    finally:
        box.close()
    assert b"In-Reply-To: <vraag-7@rvdk.example>" in item.raw
    assert b"vraag nummer" not in item.raw  # no body
    assert item.source_id == "<antwoord-7@ind.example>"


def test_mark_adds_keywords_next_to_what_people_set_and_never_moves_by_default(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1)])
    client = dovecot.client(imap_user)
    client.select_folder("INBOX")
    client.add_flags([1], [b"\\Flagged", b"Belangrijk"])
    client.logout()
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        (item,), _ = drain(box)
        box.mark(item.source_id, ["BvhK Gezag en omgang", "BvhK Jan de Vries"])
        box.mark(item.source_id, ["BvhK Gezag en omgang"])  # again: no harm
    finally:
        box.close()
    (got,) = flags(dovecot, imap_user).values()
    assert set(got) >= {b"\\Flagged", b"Belangrijk", b"BvhK_Gezag_en_omgang", b"BvhK_Jan_de_Vries"}
    assert b"\\Seen" not in got


def test_mark_in_a_new_session_finds_the_item_by_message_id(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1), mail(2)])
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        box.mark("<vraag-2@rvdk.example>", ["BvhK strafrecht"])
        with pytest.raises(MailboxError, match="niet meer"):
            box.mark("<weg@rvdk.example>", ["x"])
    finally:
        box.close()
    assert flags(dovecot, imap_user) == {1: (), 2: (b"BvhK_strafrecht",)}


def test_move_only_when_configured(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1)])
    client = dovecot.client(imap_user)
    client.create_folder("BvhK verwerkt")
    client.logout()
    box = ImapMailbox(**dovecot.mailbox_config(imap_user, move_to="BvhK verwerkt"))
    try:
        (item,), _ = drain(box)
        box.mark(item.source_id, ["BvhK voogdij"])
    finally:
        box.close()
    assert flags(dovecot, imap_user) == {}
    (moved,) = flags(dovecot, imap_user, "BvhK verwerkt").values()
    assert b"BvhK_voogdij" in moved


def test_keyword_is_a_valid_imap_atom():
    assert keyword('BvhK "Kinderbescherming" (OTS)') == "BvhK__Kinderbescherming___OTS"
    assert keyword("Voogdij & amv's") == "Voogdij_&_amv's"
    assert keyword("één") == "n"  # non-ASCII replaced, then trimmed
    assert keyword("   ") == "BvhK"


def test_check_says_what_works(dovecot, imap_user):
    dovecot.append(imap_user, [mail(1)])
    dovecot.append(imap_user, [], folder="Sent")
    box = ImapMailbox(**dovecot.mailbox_config(imap_user))
    try:
        line = box.check()
    finally:
        box.close()
    assert "aangemeld" in line and "INBOX 1 berichten" in line and "Sent 0 berichten" in line
    assert "CONDSTORE" in line and "labels mogelijk" in line


# --- bad input: one clear line, nothing half done ------------------------------------------
def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_wrong_password(dovecot, imap_user):
    box = ImapMailbox(**dovecot.mailbox_config(imap_user, password="fout"))
    with pytest.raises(MailboxError) as exc:
        box.check()
    assert "aanmelden geweigerd" in one_line(exc) and "fout" not in str(exc.value)


def test_unreachable_host(dovecot, imap_user):
    from tests.servers import spare_port

    box = ImapMailbox(**dovecot.mailbox_config(imap_user, port=spare_port()))
    with pytest.raises(MailboxError) as exc:
        list(box.fetch(""))
    assert "verbinding geweigerd" in one_line(exc)


def test_missing_folder(dovecot, imap_user):
    box = ImapMailbox(**dovecot.mailbox_config(imap_user, folder="Bestaat-niet"))
    with pytest.raises(MailboxError) as exc:
        list(box.fetch(""))
    assert "map 'Bestaat-niet' bestaat niet" in one_line(exc)
    box.close()


def test_tls_with_the_test_ca(dovecot, imap_user, tls_files):
    dovecot.append(imap_user, [mail(1)])
    for tls, port in (("ssl", dovecot.tls_port), ("starttls", dovecot.port)):
        box = ImapMailbox(**dovecot.mailbox_config(imap_user, tls=tls, port=port, ca_file=tls_files.ca))
        try:
            assert [i.source_id for i in box.fetch("")] == ["<vraag-1@rvdk.example>"]
        finally:
            box.close()


def test_tls_failures(dovecot, imap_user):
    untrusted = ImapMailbox(**dovecot.mailbox_config(imap_user, tls="ssl", port=dovecot.tls_port))
    with pytest.raises(MailboxError) as exc:
        untrusted.check()
    assert "TLS-certificaat niet vertrouwd" in one_line(exc)
    wrong_port = ImapMailbox(**dovecot.mailbox_config(imap_user, tls="ssl", port=dovecot.port))
    with pytest.raises(MailboxError) as exc:
        wrong_port.check()
    assert "TLS-fout" in one_line(exc)


def test_the_private_dovecot_is_not_the_system_service(dovecot):
    assert str(dovecot.root) in (dovecot.root / "dovecot.conf").read_text()
    out = subprocess.run(["ps", "-o", "args=", "-C", "dovecot"], capture_output=True, text=True).stdout
    assert f"-c {dovecot.root}/dovecot.conf" in out
