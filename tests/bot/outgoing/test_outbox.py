"""The outbox: one Maildir per recipient, never a file outside its folder, written privately."""

from __future__ import annotations


import shutil

import pytest

from bot.outgoing import DeliveryError, OutboxSender


@pytest.mark.parametrize("recipient", ["../../x@ind.example", "a/b@ind.example", "..", ".hidden@ind.example", ""])
def test_a_recipient_that_is_no_folder_name_is_refused_and_nothing_is_written(tmp_path, recipient):
    outbox = OutboxSender(tmp_path / "outbox")
    with pytest.raises(DeliveryError, match="geen bruikbare mapnaam"):
        outbox.send(payload=b"Subject: x\r\n\r\nx\r\n", recipient=recipient, message_id="<m@x>")
    assert [p for p in tmp_path.rglob("*")] == []


def test_the_same_message_twice_leaves_one_file(tmp_path):
    outbox = OutboxSender(tmp_path / "outbox")
    for _ in range(2):
        outbox.send(payload=b"Subject: x\r\n\r\nx\r\n", recipient="A.Bakker@ind.example", message_id="<m@x>")
    assert len(list((tmp_path / "outbox" / "a.bakker@ind.example" / "new").iterdir())) == 1


def test_a_maildir_removed_while_running_fails_one_try_and_is_made_again_at_the_next(tmp_path):
    outbox = OutboxSender(tmp_path / "outbox")
    outbox.send(payload=b"Subject: x\r\n\r\nx\r\n", recipient="a@ind.example", message_id="<m1@x>")
    shutil.rmtree(tmp_path / "outbox" / "a@ind.example")  # someone cleans up the outbox
    with pytest.raises(DeliveryError, match="outbox"):
        outbox.send(payload=b"Subject: y\r\n\r\ny\r\n", recipient="a@ind.example", message_id="<m2@x>")
    outbox.send(payload=b"Subject: y\r\n\r\ny\r\n", recipient="a@ind.example", message_id="<m2@x>")  # the retry
    assert len(list((tmp_path / "outbox" / "a@ind.example" / "new").iterdir())) == 1
