"""The ews kind: the real exchangelib against a local endpoint answering EWS SOAP.

The fake (tests/servers.py, responses in tests/fixtures/ews) answers like Exchange 2016;
the tests assert on the requests exchangelib sends: which operation, which fields, which
mailbox, and that nothing in the mailbox is changed unless asked.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from bot.ingest.mailboxes import ews
from bot.ingest.mailboxes.base import MailboxError
from bot.ingest.mailboxes.ews import EwsCursor, EwsMailbox
from bot.settings import EwsSettings
from tests.servers import MNS, TNS, ews_fixture, spare_port

ADDRESS = "bvhk@ind.example"


def question(n: int, **headers) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (f"From: jurist@rvdk.example\r\nTo: {ADDRESS}\r\nSubject: Vraag {n}\r\n"
            f"Message-ID: <vraag-{n}@rvdk.example>\r\n{extra}\r\nTekst van vraag {n}.\r\n").encode()


def settings(fake, tls_files, **overrides) -> EwsSettings:
    values = dict(kind="ews", name="rvdk", organisation="RvdK", address=ADDRESS, service_endpoint=fake.endpoint,
                  auth="basic", username=fake.username, password_env="BVHK_TEST_EWS", ca_file=tls_files.ca,
                  max_wait_seconds=5)
    return EwsSettings.model_validate(values | overrides)


@pytest.fixture
def mailbox(fake_ews, tls_files):
    return EwsMailbox(settings(fake_ews, tls_files), fake_ews.password)


def calls(fake, operation: str) -> list:
    return [c for c in fake.calls if c.operation == operation]


def field_uris(call) -> list[str]:
    shape = call.xml.find(f".//{{{MNS}}}ItemShape")
    return sorted(p.get("FieldURI") for p in shape.iter(f"{{{TNS}}}FieldURI"))


def drain(iterator):
    items = list(iterator)
    return items, (items[-1].cursor if items else None)


# --- reading the inbox --------------------------------------------------------------------
def test_sync_asks_only_for_ids_and_time_received_then_reads_mime_of_new_items(fake_ews, mailbox):
    for n in (1, 2):
        fake_ews.add("inbox", question(n))
    items, cursor = drain(mailbox.fetch(""))
    assert [i.raw for i in items] == [question(1), question(2)]
    assert [i.source_id for i in items] == [i.id for i in fake_ews.folders["inbox"]]
    (sync,) = calls(fake_ews, "SyncFolderItems")
    assert field_uris(sync) == ["item:DateTimeReceived"]
    assert sync.xml.find(f".//{{{MNS}}}MaxChangesReturned").text == str(ews.BATCH)
    assert sync.xml.find(f".//{{{MNS}}}SyncState") is None  # first sync
    (get,) = calls(fake_ews, "GetItem")
    assert field_uris(get) == ["item:MimeContent"]
    assert len(get.xml.find(f".//{{{MNS}}}ItemIds")) == 2


def test_the_stored_sync_state_gives_only_what_is_new_and_reads_are_not_changes(fake_ews, mailbox):
    first = fake_ews.add("inbox", question(1))
    _, cursor = drain(mailbox.fetch(""))
    fake_ews.change("inbox", first, "ReadFlagChange")  # someone read it in Outlook
    assert drain(mailbox.fetch(cursor))[0] == []
    fake_ews.add("inbox", question(2))
    items, _ = drain(mailbox.fetch(cursor))
    assert [i.raw for i in items] == [question(2)]
    state = calls(fake_ews, "SyncFolderItems")[-1].xml.find(f".//{{{MNS}}}SyncState").text
    assert state == EwsCursor.decode(cursor).state
    # nothing that changes a mailbox was ever sent
    assert not {"UpdateItem", "MoveItem", "DeleteItem", "CreateItem", "SendItem"} & set(fake_ews.operations())


def test_a_crash_in_a_batch_rereads_that_batch_never_skips(fake_ews, mailbox, monkeypatch):
    monkeypatch.setattr(ews, "BATCH", 2)
    for n in range(1, 6):
        fake_ews.add("inbox", question(n))
    items, _ = drain(mailbox.fetch(""))
    assert len(items) == 5 and len(calls(fake_ews, "SyncFolderItems")) == 3
    states = [EwsCursor.decode(i.cursor).state for i in items]
    # within a batch the cursor keeps the state the batch was read from; its last item moves it on
    assert states[0] == "" and states[1] != "" and states[2] == states[1] and states[3] != states[2]
    # the worker committed item 3 and crashed: from its cursor, items 3..5 come again, none is lost
    again, _ = drain(mailbox.fetch(items[2].cursor))
    assert [i.source_id for i in again] == [i.source_id for i in items[2:]]


def test_since_passes_over_older_mail_on_the_first_sync(fake_ews, tls_files):
    fake_ews.add("inbox", question(1), received=dt.datetime(2024, 1, 5, tzinfo=dt.timezone.utc))
    fake_ews.add("inbox", question(2))
    box = EwsMailbox(settings(fake_ews, tls_files, since="2025-01-01"), fake_ews.password)
    items, _ = drain(box.fetch(""))
    assert [i.raw for i in items] == [question(2)]
    (get,) = calls(fake_ews, "GetItem")
    assert len(get.xml.find(f".//{{{MNS}}}ItemIds")) == 1  # the old one's MIME is never read


def test_an_invalid_sync_state_resyncs_and_reads_only_recent_items_again(fake_ews, mailbox, caplog):
    old = fake_ews.add("inbox", question(1), received=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    recent = fake_ews.add("inbox", question(2))
    _, cursor = drain(mailbox.fetch(""))
    fake_ews.invalidate_sync_states()
    fake_ews.add("inbox", question(3))
    get_before = len(calls(fake_ews, "GetItem"))
    items, new_cursor = drain(mailbox.fetch(cursor))
    # the worker recognises item 2 by its id and skips it; item 1 is not even read again
    assert [i.source_id for i in items] == [recent.id, fake_ews.folders["inbox"][2].id]
    assert old.id not in [i.source_id for i in items]
    assert "sync state no longer valid" in caplog.text
    assert sum(len(c.xml.find(f".//{{{MNS}}}ItemIds")) for c in calls(fake_ews, "GetItem")[get_before:]) == 2
    assert drain(mailbox.fetch(new_cursor))[0] == []


def test_error_server_busy_is_sat_out_as_long_as_the_server_asks(fake_ews, mailbox):
    fake_ews.add("inbox", question(1))
    drain(mailbox.fetch(""))  # version and folders known
    fake_ews.fail_next("SyncFolderItems", ews_fixture("ErrorServerBusy", back_off_ms=700), status=500)
    started = time.monotonic()
    items, _ = drain(mailbox.fetch(""))
    assert time.monotonic() - started >= 0.65
    assert len(items) == 1 and len(calls(fake_ews, "SyncFolderItems")) == 3


def test_error_server_busy_beyond_max_wait_is_one_line_and_moves_nothing(fake_ews, tls_files):
    box = EwsMailbox(settings(fake_ews, tls_files, max_wait_seconds=1), fake_ews.password)
    fake_ews.add("inbox", question(1))
    fake_ews.fail_next("SyncFolderItems", ews_fixture("ErrorServerBusy", back_off_ms=300000), status=500)
    with pytest.raises(MailboxError, match="overbelast"):
        drain(box.fetch(""))


# --- access: delegate, impersonation, OAuth2 ---------------------------------------------
def test_delegate_access_names_the_shared_mailbox_in_every_folder_id(fake_ews, mailbox):
    drain(mailbox.fetch(""))
    sync = calls(fake_ews, "SyncFolderItems")[0].xml
    folder = sync.find(f".//{{{MNS}}}SyncFolderId/{{{TNS}}}DistinguishedFolderId")
    assert folder.get("Id") == "inbox"
    assert folder.find(f"{{{TNS}}}Mailbox/{{{TNS}}}EmailAddress").text == ADDRESS
    assert sync.find(f".//{{{TNS}}}ExchangeImpersonation") is None


def test_ntlm_handshake_for_on_premises(fake_ews, tls_files):
    box = EwsMailbox(settings(fake_ews, tls_files, auth="ntlm"), fake_ews.password)
    fake_ews.add("inbox", question(1))
    assert len(drain(box.fetch(""))[0]) == 1
    assert fake_ews.ntlm_users and set(fake_ews.ntlm_users) == {fake_ews.username}  # EWS\svc-bvhk
    assert all(not c.headers.get("authorization", "").startswith("Basic") for c in fake_ews.calls)


def test_oauth2_client_credentials_with_impersonation(fake_ews, tls_files):
    idp = fake_ews.idp
    config = settings(fake_ews, tls_files, auth="oauth2", access="impersonation", username=None,
                      tenant_id=idp.tenant, client_id=idp.client_id, client_secret_env="X",
                      authority=fake_ews.base)
    box = EwsMailbox(config, idp.client_secret)
    fake_ews.add("inbox", question(1))
    assert len(drain(box.fetch(""))[0]) == 1
    assert idp.scopes == ["https://outlook.office365.com/.default"]
    sync = calls(fake_ews, "SyncFolderItems")[0]
    assert sync.headers["authorization"] == f"Bearer {idp.issued[0]}"
    smtp = sync.xml.find(f".//{{{TNS}}}ExchangeImpersonation/{{{TNS}}}ConnectingSID/{{{TNS}}}PrimarySmtpAddress")
    assert smtp.text == ADDRESS


def test_oauth2_wrong_secret_is_one_line(fake_ews, tls_files):
    idp = fake_ews.idp
    config = settings(fake_ews, tls_files, auth="oauth2", access="impersonation", username=None,
                      tenant_id=idp.tenant, client_id=idp.client_id, client_secret_env="X",
                      authority=fake_ews.base)
    with pytest.raises(MailboxError) as exc:
        EwsMailbox(config, "verkeerd").check()
    assert "token geweigerd" in str(exc.value) and "verkeerd" not in str(exc.value)
    assert fake_ews.calls == []


def test_one_long_lived_account_per_mailbox(fake_ews, tls_files):
    config = settings(fake_ews, tls_files)
    for _ in range(3):  # the worker opens the mailbox anew every poll
        box = EwsMailbox(config, fake_ews.password)
        drain(box.fetch(""))
        box.close()
    assert fake_ews.operations().count("ConvertId") == 1  # the server version is asked once
    assert fake_ews.operations().count("GetFolder") == 2  # root and inbox, once each


# --- sent items and reply detection -------------------------------------------------------
def test_sent_items_carry_the_reply_headers_and_conversation_without_any_body(fake_ews, mailbox):
    fake_ews.add("sentitems", b"Message-ID: <antwoord-1@ind.example>\r\nIn-Reply-To: <vraag-1@rvdk.example>\r\n"
                 b"References: <vraag-1@rvdk.example>\r\nSubject: RE: Vraag 1\r\n\r\nAntwoord.\r\n",
                 conversation_id="AAQkAGI2conv1")
    (item,), cursor = drain(mailbox.sent_items(""))
    assert b"In-Reply-To: <vraag-1@rvdk.example>" in item.raw and b"References: <vraag-1@rvdk.example>" in item.raw
    assert b"Antwoord" not in item.raw
    assert item.conversation_id == "AAQkAGI2conv1"
    (sync,) = calls(fake_ews, "SyncFolderItems")
    assert field_uris(sync) == ["item:ConversationId", "item:DateTimeSent", "item:InReplyTo",
                                "message:InternetMessageId", "message:References"]
    assert sync.xml.find(f".//{{{TNS}}}DistinguishedFolderId").get("Id") == "sentitems"
    assert calls(fake_ews, "GetItem") == []
    assert drain(mailbox.sent_items(cursor))[0] == []


def test_conversation_lookup_for_a_reply_without_references(fake_ews, mailbox):
    fake_ews.add("inbox", question(1), conversation_id="AAQkAGI2conv9")
    fake_ews.add("inbox", question(2), conversation_id="AAQkAGI2other")
    assert mailbox.message_ids_in_conversation("AAQkAGI2conv9") == ["<vraag-1@rvdk.example>"]
    (find,) = calls(fake_ews, "FindItem")
    assert find.xml.find(f".//{{{TNS}}}Constant").get("Value") == "AAQkAGI2conv9"


# --- marks, moves and sending -------------------------------------------------------------
def test_mark_adds_categories_next_to_the_ones_people_set(fake_ews, mailbox):
    item = fake_ews.add("inbox", question(1), categories=["Rood"])
    mailbox.mark(item.id, ["BvhK Voogdij", "BvhK Jan"])
    assert item.categories == ["Rood", "BvhK Voogdij", "BvhK Jan"]
    (update,) = calls(fake_ews, "UpdateItem")
    uris = [f.get("FieldURI") for f in update.xml.iter(f"{{{TNS}}}FieldURI")]
    assert uris == ["item:Categories"]  # this field only: not read, not flagged, not moved
    assert update.xml.find(f".//{{{MNS}}}UpdateItem").get("MessageDisposition") == "SaveOnly"
    mailbox.mark(item.id, ["BvhK Voogdij"])  # nothing new: no update
    assert len(calls(fake_ews, "UpdateItem")) == 1 and calls(fake_ews, "MoveItem") == []


def test_move_only_when_configured(fake_ews, tls_files):
    fake_ews.add_folder("inbox", "BvhK verwerkt")
    item = fake_ews.add("inbox", question(1))
    box = EwsMailbox(settings(fake_ews, tls_files, move_to="Inbox/BvhK verwerkt"), fake_ews.password)
    box.mark(item.id, ["BvhK Strafrecht"])
    assert fake_ews.folders["inbox"] == [] and fake_ews.folders["BvhK verwerkt"] == [item]


def test_send_through_the_mailbox_once_per_message_id(fake_ews, mailbox):
    payload = b"From: bvhk@ind.example\r\nTo: jan@ind.example\r\nMessage-ID: <t1.forward.x@bvhk-triage>\r\n\r\nDoor.\r\n"
    for _ in range(2):  # the second call comes after a crash that lost the outcome
        mailbox.send(payload=payload, recipient="jan@ind.example", message_id="<t1.forward.x@bvhk-triage>")
    assert fake_ews.sent_mime == [payload]
    (create,) = calls(fake_ews, "CreateItem")
    assert create.xml.find(f".//{{{MNS}}}CreateItem").get("MessageDisposition") == "SendAndSaveCopy"
    assert create.xml.find(f".//{{{MNS}}}SavedItemFolderId/{{{TNS}}}DistinguishedFolderId").get("Id") == "sentitems"


# --- check and bad input: one clear line --------------------------------------------------
def test_check_says_what_works(fake_ews, mailbox):
    fake_ews.add("inbox", question(1))
    line = mailbox.check()
    assert line.startswith(f"EWS {fake_ews.endpoint} (basic, delegate): {ADDRESS} bereikbaar")
    assert "inbox 1 items" in line and "sentitems 0 items" in line and "Exchange 15.1" in line


def one_line(exc) -> str:
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_wrong_password(fake_ews, tls_files):
    with pytest.raises(MailboxError) as exc:
        EwsMailbox(settings(fake_ews, tls_files), "fout").check()
    assert "aanmelden geweigerd" in one_line(exc) and "fout" not in str(exc.value)


def test_ews_switched_off_by_the_tenant(fake_ews, mailbox):
    fake_ews.blocked = True
    with pytest.raises(MailboxError) as exc:
        mailbox.check()
    assert "HTTP 403" in one_line(exc) and "kind = graph" in str(exc.value)


def test_unreachable_server(fake_ews, tls_files):
    config = settings(fake_ews, tls_files, service_endpoint=f"https://127.0.0.1:{spare_port()}/EWS/Exchange.asmx")
    with pytest.raises(MailboxError) as exc:
        EwsMailbox(config, fake_ews.password).check()
    assert "niet bereikbaar" in one_line(exc)


def test_untrusted_certificate(fake_ews, tls_files):
    with pytest.raises(MailboxError) as exc:
        EwsMailbox(settings(fake_ews, tls_files, ca_file=None), fake_ews.password).check()
    assert "TLS-certificaat niet vertrouwd" in one_line(exc)


def test_missing_folder(fake_ews, tls_files):
    with pytest.raises(MailboxError) as exc:
        list(EwsMailbox(settings(fake_ews, tls_files, folder="Inbox/Bestaat niet"), fake_ews.password).fetch(""))
    assert "map 'Inbox/Bestaat niet' bestaat niet" in one_line(exc)


@pytest.mark.parametrize("code", ["ErrorAccessDenied", "ErrorImpersonateUserDenied", "ErrorNonExistentMailbox"])
def test_no_access_to_the_shared_mailbox(fake_ews, mailbox, code):
    fake_ews.fail_next("GetFolder", ews_fixture("envelope", body=ews_fixture(
        "error", operation="GetFolder", code=code, text="Access is denied.")))
    with pytest.raises(MailboxError) as exc:
        list(mailbox.fetch(""))
    assert f"geen toegang tot de gedeelde mailbox ({code})" in one_line(exc)


def test_cursor_round_trip_and_garbage():
    cursor = EwsCursor("H4sI", dt.datetime(2025, 5, 1, 10, tzinfo=dt.timezone.utc))
    assert EwsCursor.decode(cursor.encode()) == cursor
    assert json.loads(cursor.encode())["state"] == "H4sI"
    with pytest.raises(MailboxError, match="onleesbaar"):
        EwsCursor.decode("1:2:3:")


def test_delivery_kind_mailbox_sends_through_ews(fake_ews, tls_files, monkeypatch):
    from bot.outgoing import open_sender
    from bot.settings import DeliverySettings

    monkeypatch.setenv("BVHK_TEST_EWS", fake_ews.password)
    delivery = DeliverySettings.model_validate({"kind": "mailbox", "mailbox": "rvdk", "from": ADDRESS})
    sender = open_sender(delivery, mailboxes=[settings(fake_ews, tls_files)])
    assert sender.check().startswith("verzenden via mailbox rvdk: EWS")
    payload = b"From: bvhk@ind.example\r\nTo: a@rvdk.example\r\nMessage-ID: <t5.forward.c@bvhk-triage>\r\n\r\nDoor.\r\n"
    sender.send(payload=payload, recipient="a@rvdk.example", message_id="<t5.forward.c@bvhk-triage>")
    assert fake_ews.sent_mime == [payload]
