"""Reply detection: the pure matching, then sent items and inbox replies against a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.backlog import replies
from bot.ingest.mailboxes.base import MailboxError, header_block
from bot.ingest.mailboxes.maildir import MaildirMailbox
from bot.backlog.replies import Reply, find_question, read_reply, replied_to
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import AuditEntry, ContactPerson, Delivery, Question

SHARED = "bvhk@rvdk.example"
Q1 = "<vraag-1@ind.example>"


# --- the pure part ------------------------------------------------------------------------
def test_read_reply_takes_the_headers_that_matter():
    raw = (b"From: Jan de Vries <Jan@RvdK.example>\r\nTo: jurist@ind.example\r\nCc: " + SHARED.encode() +
           b"\r\nMessage-ID: <a1@rvdk.example>\r\nIn-Reply-To: <vraag-1@ind.example>\r\n"
           b"References: <x@ind.example>\r\n <vraag-1@ind.example>\r\nDate: Tue, 06 May 2025 09:30:00 +0200\r\n\r\nTekst")
    reply = read_reply(raw)
    assert reply.sender == "jan@rvdk.example" and SHARED in reply.recipients
    assert reply.in_reply_to == (Q1,) and reply.references == ("<x@ind.example>", Q1)
    assert reply.date == dt.datetime(2025, 5, 6, 7, 30, tzinfo=dt.timezone.utc)
    assert not reply.automatic


def test_replied_to_is_in_reply_to_then_references_newest_first():
    reply = Reply(message_id="<me@x>", in_reply_to=("<b@x>",), references=("<a@x>", "<b@x>", "<c@x>"))
    assert replied_to(reply) == ["<b@x>", "<c@x>", "<a@x>"]


@pytest.mark.parametrize("extra", [b"X-BvhK-Triage: abc123\r\n", b"Auto-Submitted: auto-replied\r\n"])
def test_automatic_messages_and_our_own_answer_nothing(extra):
    raw = b"Message-ID: <a@x>\r\nIn-Reply-To: " + Q1.encode() + b"\r\n" + extra + b"\r\n"
    assert find_question(read_reply(raw), by_message_id=lambda m: "vraag") is None
    ours = read_reply(header_block(message_id="<t1.forward.ab12@bvhk-triage>", in_reply_to=Q1))
    assert ours.automatic and find_question(ours, by_message_id=lambda m: "vraag") is None


def test_find_question_follows_the_headers_then_the_conversation():
    questions = {Q1: "q1", "<t9.forward.ff@bvhk-triage>": "q9"}
    by_id = questions.get
    assert find_question(Reply(in_reply_to=(Q1,)), by_message_id=by_id) == "q1"
    assert find_question(Reply(references=("<other@x>", "<t9.forward.ff@bvhk-triage>")), by_message_id=by_id) == "q9"
    assert find_question(Reply(in_reply_to=("<unknown@x>",)), by_message_id=by_id) is None
    by_conversation = {"conv-1": "q1"}.get
    assert find_question(Reply(conversation_id="conv-1"), by_message_id=by_id, by_conversation=by_conversation) == "q1"
    # headers that lead elsewhere are not overruled by a shared conversation (a forward, say)
    assert find_question(Reply(in_reply_to=("<unknown@x>",), conversation_id="conv-1"), by_message_id=by_id,
                         by_conversation=by_conversation) is None


# --- against a database -------------------------------------------------------------------
@pytest.fixture
def engine(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        for n, status in ((1, "routed"), (2, "review"), (3, "skipped")):
            session.add(Question(triage_id=f"t{n}", mailbox="rvdk", source_id=f"s{n}",
                                 message_id=f"<vraag-{n}@ind.example>", status=status, assignee="jan@rvdk.example"))
        session.flush()
        session.add(Delivery(question_id=2, recipient="jan@rvdk.example", message_id="<t2.forward.aa@bvhk-triage>"))
        session.add(ContactPerson(email="jan@rvdk.example", name="Jan de Vries", organisation="RvdK"))
    yield engine
    engine.dispose()


def question(engine, triage_id: str) -> Question:
    with unit_of_work(engine) as session:
        return session.exec(repo.select(Question).where(Question.triage_id == triage_id)).one()


def maildir(tmp_path: Path) -> MaildirMailbox:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / "mail" / ".Sent" / sub).mkdir(parents=True, exist_ok=True)
    return MaildirMailbox(name="rvdk", path=tmp_path / "mail")


def sent(box: MaildirMailbox, key: str, raw: bytes) -> None:
    (box.sent_path / "new" / key).write_bytes(raw)


def answer(to: str, date: str, message_id: str) -> bytes:
    return (f"From: {SHARED}\r\nTo: jurist@ind.example\r\nMessage-ID: {message_id}\r\nIn-Reply-To: {to}\r\n"
            f"References: {to}\r\nDate: {date}\r\nSubject: RE: vraag\r\n\r\nAntwoord.\r\n").encode()


def test_a_reply_in_sent_items_answers_the_question_with_the_time_of_the_first_answer(engine, tmp_path):
    box = maildir(tmp_path)
    sent(box, "1700000001.a", answer(Q1, "Wed, 07 May 2025 10:00:00 +0000", "<a1@rvdk.example>"))
    sent(box, "1700000002.b", answer(Q1, "Tue, 06 May 2025 10:00:00 +0000", "<a2@rvdk.example>"))  # earlier
    assert replies.detect_replies(engine, box, name="rvdk") == 1
    first = question(engine, "t1")
    assert first.status == "answered"
    assert first.answered_at.replace(tzinfo=dt.timezone.utc) == dt.datetime(2025, 5, 6, 10, tzinfo=dt.timezone.utc)
    with unit_of_work(engine) as session:
        assert repo.get_cursor(session, mailbox="rvdk", folder="sent") == "1700000002.b"
        assert {a.action for a in session.exec(repo.select(AuditEntry)).all()} == {"answered"}
    assert replies.detect_replies(engine, box, name="rvdk") == 0  # nothing read again


def test_a_reply_to_our_forward_answers_and_our_own_forwards_do_not(engine, tmp_path):
    box = maildir(tmp_path)
    sent(box, "1700000001.a", (b"From: bvhk-triage@rvdk.example\r\nMessage-ID: <t3.forward.bb@bvhk-triage>\r\n"
                               b"X-BvhK-Triage: t3\r\nIn-Reply-To: <vraag-1@ind.example>\r\n\r\nDoorgestuurd.\r\n"))
    assert replies.detect_replies(engine, box, name="rvdk") == 0
    assert question(engine, "t1").status == "routed"
    sent(box, "1700000002.b", answer("<t2.forward.aa@bvhk-triage>", "Tue, 06 May 2025 10:00:00 +0000", "<a@r>"))
    assert replies.detect_replies(engine, box, name="rvdk") == 1
    assert question(engine, "t2").status == "answered"


def test_skipped_messages_are_not_questions_to_answer(engine, tmp_path):
    box = maildir(tmp_path)
    sent(box, "1700000001.a", answer("<vraag-3@ind.example>", "Tue, 06 May 2025 10:00:00 +0000", "<a@r>"))
    assert replies.detect_replies(engine, box, name="rvdk") == 0
    assert question(engine, "t3").answered_at is None


def test_a_failure_halfway_keeps_the_batches_already_done(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(replies, "BATCH", 1)
    box = maildir(tmp_path)
    sent(box, "1700000001.a", answer(Q1, "Tue, 06 May 2025 10:00:00 +0000", "<a1@r>"))
    sent(box, "1700000002.b", answer("<vraag-2@ind.example>", "Tue, 06 May 2025 11:00:00 +0000", "<a2@r>"))
    real = box.sent_items

    def breaks_after_one(cursor):
        for number, item in enumerate(real(cursor)):
            if number == 1:
                raise MailboxError("verbinding verbroken")
            yield item

    monkeypatch.setattr(box, "sent_items", breaks_after_one)
    with pytest.raises(MailboxError):
        replies.detect_replies(engine, box, name="rvdk")
    assert question(engine, "t1").status == "answered" and question(engine, "t2").status == "review"
    monkeypatch.setattr(box, "sent_items", real)
    assert replies.detect_replies(engine, box, name="rvdk") == 1  # from where it stopped
    assert question(engine, "t2").status == "answered"


def test_conversation_lookup_is_used_only_for_replies_without_references(engine):
    class ExchangeLike:  # the capability of the ews and graph kinds, over a fixed sent folder
        name = "rvdk"

        def __init__(self):
            self.asked = []

        def sent_items(self, cursor):
            from bot.ingest.mailboxes.base import Fetched

            if cursor:
                return iter(())
            raw = header_block(message_id="<a@r>", date=dt.datetime(2025, 5, 6, tzinfo=dt.timezone.utc))
            return iter([Fetched(source_id="x", raw=raw, cursor="1", conversation_id="conv-2")])

        def message_ids_in_conversation(self, conversation_id):
            self.asked.append(conversation_id)
            return ["<vraag-2@ind.example>"]

    box = ExchangeLike()
    assert replies.detect_replies(engine, box, name="rvdk") == 1
    assert box.asked == ["conv-2"] and question(engine, "t2").status == "answered"
