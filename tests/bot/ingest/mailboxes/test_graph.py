"""The graph kind: the real httpx and msal clients against a local Graph-shaped endpoint.

The fake (tests/servers.py, documents in tests/fixtures/graph) serves delta pages with
nextLink and deltaLink, 410 for an expired link, 429 with Retry-After, and a token
endpoint; the tests assert on the requests the clients send.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from urllib.parse import unquote, unquote_plus

import pytest

from bot.ingest.mailboxes import graph
from bot.ingest.mailboxes.base import MailboxError
from bot.ingest.mailboxes.graph import GraphCursor, GraphMailbox
from bot.settings import GraphSettings
from tests.servers import graph_fixture, spare_port

ADDRESS = "bvhk@ind.example"


def question(n: int) -> bytes:
    return (f"From: regievoerder@dtv.example\r\nTo: {ADDRESS}\r\nSubject: Vraag {n}\r\n"
            f"Message-ID: <vraag-{n}@dtv.example>\r\n\r\nTekst van vraag {n}.\r\n").encode()


def settings(fake, tls_files, **overrides) -> GraphSettings:
    values = dict(kind="graph", name="ind-online", organisation="IND", address=ADDRESS, tenant_id=fake.idp.tenant,
                  client_id=fake.idp.client_id, client_secret_env="BVHK_TEST_GRAPH", base_url=fake.base_url,
                  authority=fake.base, ca_file=tls_files.ca, max_wait_seconds=5)
    return GraphSettings.model_validate(values | overrides)


@pytest.fixture
def mailbox(fake_graph, tls_files):
    box = GraphMailbox(settings(fake_graph, tls_files), fake_graph.idp.client_secret)
    yield box
    box.close()


def requests_to(fake, part: str, method: str = "GET"):
    return [r for r in fake.requests if r.method == method and part in unquote(r.path)]


def drain(iterator):
    items = list(iterator)
    return items, (items[-1].cursor if items else None)


# --- reading ------------------------------------------------------------------------------
def test_delta_for_created_messages_with_immutable_ids_then_mime_per_new_message(fake_graph, mailbox):
    for n in (1, 2):
        fake_graph.add("inbox", question(n))
    items, cursor = drain(mailbox.fetch(""))
    assert [i.raw for i in items] == [question(1), question(2)]
    (delta,) = requests_to(fake_graph, "/messages/delta")
    assert unquote(delta.path).endswith(
        "/users/bvhk@ind.example/mailFolders/inbox/messages/delta?changeType=created"
        "&$select=receivedDateTime,internetMessageId")
    assert 'IdType="ImmutableId"' in delta.headers["prefer"] and "odata.maxpagesize=50" in delta.headers["prefer"]
    assert len(requests_to(fake_graph, "/$value")) == 2
    assert GraphCursor.decode(cursor).link.startswith(fake_graph.base_url) and "$deltatoken=" in cursor


def test_the_delta_link_gives_only_new_messages_not_updates(fake_graph, mailbox):
    first = fake_graph.add("inbox", question(1))
    _, cursor = drain(mailbox.fetch(""))
    mailbox.mark(first.id, ["BvhK Voogdij"])  # our own change to the message
    assert drain(mailbox.fetch(cursor))[0] == []
    fake_graph.add("inbox", question(2))
    items, _ = drain(mailbox.fetch(cursor))
    assert [i.raw for i in items] == [question(2)]
    assert "$deltatoken=" in unquote(requests_to(fake_graph, "/messages/delta")[-1].path)


def test_pages_follow_next_links_and_a_crash_rereads_the_page_never_skips(fake_graph, mailbox, monkeypatch):
    monkeypatch.setattr(graph, "PAGE_SIZE", 2)
    for n in range(1, 6):
        fake_graph.add("inbox", question(n))
    items, _ = drain(mailbox.fetch(""))
    assert len(items) == 5 and len(requests_to(fake_graph, "/messages/delta")) == 3
    links = [GraphCursor.decode(i.cursor).link for i in items]
    assert "$skiptoken=" in links[1] and links[2] == links[1] and "$deltatoken=" in links[4]
    again, _ = drain(mailbox.fetch(items[2].cursor))  # committed item 3, then a crash
    assert [i.source_id for i in again] == [i.source_id for i in items[2:]]


def test_since_filters_the_first_round_on_the_server(fake_graph, tls_files):
    fake_graph.add("inbox", question(1), received=dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc))
    fake_graph.add("inbox", question(2))
    box = GraphMailbox(settings(fake_graph, tls_files, since="2025-01-01"), fake_graph.idp.client_secret)
    items, _ = drain(box.fetch(""))
    assert [i.raw for i in items] == [question(2)]
    assert "$filter=receivedDateTime ge 2025-01-01T00:00:00Z" in unquote(requests_to(fake_graph, "/delta")[0].path)
    box.close()


def test_an_expired_delta_link_410_starts_a_new_round_reading_only_recent_mail(fake_graph, mailbox, caplog):
    old = fake_graph.add("inbox", question(1), received=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    recent = fake_graph.add("inbox", question(2))
    _, cursor = drain(mailbox.fetch(""))
    fake_graph.expire_delta_links()
    fake_graph.add("inbox", question(3))
    before = len(requests_to(fake_graph, "/$value"))
    items, new_cursor = drain(mailbox.fetch(cursor))
    assert [i.source_id for i in items][:1] == [recent.id] and len(items) == 2
    assert old.id not in [i.source_id for i in items]  # not even its MIME is read again
    assert len(requests_to(fake_graph, "/$value")) - before == 2
    assert "delta link expired" in caplog.text
    assert drain(mailbox.fetch(new_cursor))[0] == []


def test_429_waits_as_long_as_retry_after_says(fake_graph, mailbox):
    fake_graph.add("inbox", question(1))
    fake_graph.fail_next("/messages/delta", 429, headers={"Retry-After": "1"}, body=graph_fixture("error-too-many-requests"))
    started = time.monotonic()
    items, _ = drain(mailbox.fetch(""))
    assert time.monotonic() - started >= 1.0 and len(items) == 1
    assert len(requests_to(fake_graph, "/messages/delta")) == 2


def test_429_beyond_max_wait_is_one_line(fake_graph, tls_files):
    box = GraphMailbox(settings(fake_graph, tls_files, max_wait_seconds=2), fake_graph.idp.client_secret)
    fake_graph.fail_next("/messages/delta", 429, headers={"Retry-After": "120"}, body=graph_fixture("error-too-many-requests"))
    with pytest.raises(MailboxError) as exc:
        drain(box.fetch(""))
    assert "beperkt het verkeer (429)" in str(exc.value) and "\n" not in str(exc.value)


def test_one_token_for_many_polls(fake_graph, tls_files):
    config = settings(fake_graph, tls_files)
    for _ in range(3):
        box = GraphMailbox(config, fake_graph.idp.client_secret)
        drain(box.fetch(""))
        box.close()
    assert len(fake_graph.idp.issued) == 1
    assert fake_graph.idp.scopes == ["https://graph.microsoft.com/.default"]


def test_a_link_to_another_host_is_refused(fake_graph, mailbox):
    evil = GraphCursor(link="https://graph.evil.example/v1.0/users/x/mailFolders/inbox/messages/delta").encode()
    with pytest.raises(MailboxError, match="andere host"):
        drain(mailbox.fetch(evil))
    assert requests_to(fake_graph, "/v1.0/") == []


# --- sent items and reply detection -------------------------------------------------------
def test_sent_items_give_reply_headers_from_extended_properties(fake_graph, mailbox):
    fake_graph.add("sentitems", b"Message-ID: <antwoord-1@ind.example>\r\nIn-Reply-To: <vraag-1@dtv.example>\r\n"
                   b"References: <vraag-1@dtv.example>\r\n\r\nAntwoord.\r\n", conversation_id="AAQkADconv1")
    (item,), cursor = drain(mailbox.sent_items(""))
    assert b"In-Reply-To: <vraag-1@dtv.example>" in item.raw and b"References: <vraag-1@dtv.example>" in item.raw
    assert b"Antwoord." not in item.raw and item.conversation_id == "AAQkADconv1"
    (delta,) = requests_to(fake_graph, "/messages/delta")
    assert "/mailFolders/sentitems/" in unquote(delta.path)
    assert "$select=sentDateTime,internetMessageId,conversationId" in unquote(delta.path)
    (get,) = [r for r in requests_to(fake_graph, "/messages/") if "$expand" in unquote(r.path)]
    assert "id eq 'String 0x1042' or id eq 'String 0x1039'" in unquote_plus(get.path)
    assert requests_to(fake_graph, "/$value") == []
    assert drain(mailbox.sent_items(cursor))[0] == []


def test_conversation_lookup(fake_graph, mailbox):
    fake_graph.add("inbox", question(1), conversation_id="AAQkADconv7")
    fake_graph.add("inbox", question(2), conversation_id="AAQkADother")
    assert mailbox.message_ids_in_conversation("AAQkADconv7") == ["<vraag-1@dtv.example>"]


# --- marks, moves, sending ----------------------------------------------------------------
def test_mark_patches_categories_only_and_keeps_those_people_set(fake_graph, mailbox):
    message = fake_graph.add("inbox", question(1), categories=["Oranje"])
    mailbox.mark(message.id, ["BvhK Strafrecht", "BvhK Piet"])
    assert message.categories == ["Oranje", "BvhK Strafrecht", "BvhK Piet"]
    (patch,) = requests_to(fake_graph, "/messages/", "PATCH")
    assert json.loads(patch.body) == {"categories": ["Oranje", "BvhK Strafrecht", "BvhK Piet"]}
    mailbox.mark(message.id, ["BvhK Piet"])
    assert len(requests_to(fake_graph, "/messages/", "PATCH")) == 1
    assert requests_to(fake_graph, "/move", "POST") == []


def test_move_only_when_configured(fake_graph, tls_files):
    target = fake_graph.add_folder("inbox", "BvhK verwerkt")
    message = fake_graph.add("inbox", question(1))
    box = GraphMailbox(settings(fake_graph, tls_files, move_to="Inbox/BvhK verwerkt"), fake_graph.idp.client_secret)
    box.mark(message.id, ["BvhK Voogdij"])
    box.close()
    (move,) = requests_to(fake_graph, "/move", "POST")
    assert json.loads(move.body) == {"destinationId": target} and message.folder == target


def test_send_mime_as_the_shared_mailbox_once_per_message_id(fake_graph, mailbox):
    payload = b"From: bvhk@ind.example\r\nTo: jan@ind.example\r\nMessage-ID: <t2.forward.y@bvhk-triage>\r\n\r\nDoor.\r\n"
    for _ in range(2):
        mailbox.send(payload=payload, recipient="jan@ind.example", message_id="<t2.forward.y@bvhk-triage>")
    (send,) = requests_to(fake_graph, "/sendMail", "POST")
    assert send.headers["content-type"] == "text/plain" and base64.b64decode(send.body) == payload
    assert fake_graph.sent_mime == [payload]


# --- check and bad input ------------------------------------------------------------------
def test_check_says_what_works(fake_graph, mailbox):
    fake_graph.add("inbox", question(1))
    assert mailbox.check() == (f"Graph {fake_graph.base_url}: {ADDRESS} bereikbaar; inbox 1 items; "
                               "sentitems 0 items")


def one_line(exc) -> str:
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_wrong_client_secret(fake_graph, tls_files):
    with pytest.raises(MailboxError) as exc:
        GraphMailbox(settings(fake_graph, tls_files), "verkeerd").check()
    assert "token geweigerd door de authority (invalid_client)" in one_line(exc)
    assert "verkeerd" not in str(exc.value)


def test_no_application_permission(fake_graph, mailbox):
    fake_graph.fail_next("/mailFolders/inbox", 403, body=graph_fixture("error-access-denied"))
    with pytest.raises(MailboxError) as exc:
        mailbox.check()
    assert "geen toegang tot de gedeelde mailbox (403 ErrorAccessDenied)" in one_line(exc)


def test_unknown_mailbox(fake_graph, tls_files):
    box = GraphMailbox(settings(fake_graph, tls_files, address="bestaat-niet@ind.example"), fake_graph.idp.client_secret)
    with pytest.raises(MailboxError) as exc:
        box.check()
    assert "mailbox niet gevonden (ResourceNotFound)" in one_line(exc)


def test_missing_folder(fake_graph, tls_files):
    box = GraphMailbox(settings(fake_graph, tls_files, folder="Inbox/Bestaat niet"), fake_graph.idp.client_secret)
    with pytest.raises(MailboxError) as exc:
        drain(box.fetch(""))
    assert "map 'Inbox/Bestaat niet' bestaat niet" in one_line(exc)


def test_unreachable(fake_graph, tls_files):
    config = settings(fake_graph, tls_files, authority=f"https://127.0.0.1:{spare_port()}")
    with pytest.raises(MailboxError) as exc:
        GraphMailbox(config, fake_graph.idp.client_secret).check()
    assert "niet bereikbaar" in one_line(exc)


def test_untrusted_certificate(fake_graph, tls_files):
    with pytest.raises(MailboxError) as exc:
        GraphMailbox(settings(fake_graph, tls_files, ca_file=None), fake_graph.idp.client_secret).check()
    assert "TLS-certificaat niet vertrouwd" in one_line(exc)
