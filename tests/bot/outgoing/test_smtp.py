"""The smtp delivery kind against a real SMTP server (aiosmtpd, tests/servers.py)."""

from __future__ import annotations

import pytest

from bot.outgoing import DeliveryError, open_sender
from bot.outgoing.compose import outgoing_message_id
from bot.settings import DeliverySettings
from bot.outgoing.smtp import SmtpSender
from tests.servers import spare_port

pytestmark = pytest.mark.server

MESSAGE_ID = outgoing_message_id(triage_id="abc123", recipient="jan@ind.example", purpose="forward")
PAYLOAD = (
    f"From: bvhk-triage@ind.example\r\nTo: jan@ind.example\r\nMessage-ID: {MESSAGE_ID}\r\n"
    "X-BvhK-Triage: abc123\r\nSubject: [BvhK Voogdij] vraag\r\n\r\nDoorgestuurd.\r\n"
).encode()


def sender(server, tls_files, **overrides) -> SmtpSender:
    options = dict(host=server.host, port=server.port, tls="starttls", sender="bvhk-triage@ind.example",
                   username=server.username, password=server.password, ca_file=tls_files.ca, timeout=5)
    return SmtpSender(**(options | overrides))


def test_starttls_with_authentication_delivers_the_stored_payload_unchanged(smtp_server, tls_files):
    sender(smtp_server, tls_files).send(payload=PAYLOAD, recipient="jan@ind.example", message_id=MESSAGE_ID)
    (got,) = smtp_server.messages
    assert got.mail_from == "bvhk-triage@ind.example" and got.rcpt_tos == ("jan@ind.example",)
    assert got.login == smtp_server.username
    assert f"Message-ID: {MESSAGE_ID}".encode() in got.data and b"X-BvhK-Triage: abc123" in got.data


def test_implicit_tls(smtps_server, tls_files):
    sender(smtps_server, tls_files, tls="ssl").send(payload=PAYLOAD, recipient="a@rvdk.example", message_id=MESSAGE_ID)
    assert [m.rcpt_tos for m in smtps_server.messages] == [("a@rvdk.example",)]


def test_check_connects_and_authenticates(smtp_server, tls_files):
    line = sender(smtp_server, tls_files).check()
    assert line == f"SMTP 127.0.0.1:{smtp_server.port} (starttls): verbonden, aangemeld"
    assert smtp_server.messages == []


def test_open_sender_builds_it_from_the_settings(smtp_server, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_SMTP", smtp_server.password)
    settings = DeliverySettings.model_validate(dict(
        kind="smtp", host="127.0.0.1", port=smtp_server.port, tls="starttls", username=smtp_server.username,
        password_env="BVHK_TEST_SMTP", ca_file=str(tls_files.ca), **{"from": "bvhk@dtv.example"}))
    open_sender(settings).send(payload=PAYLOAD, recipient="b@dtv.example", message_id=MESSAGE_ID)
    assert smtp_server.messages[0].mail_from == "bvhk@dtv.example"


# --- bad input: one clear line, nothing delivered -----------------------------------------
def one_line(exc) -> str:
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_certificate_verification_is_on_by_default(smtp_server, tls_files):
    with pytest.raises(DeliveryError) as exc:
        sender(smtp_server, tls_files, ca_file=None).check()
    assert "TLS-certificaat niet vertrouwd" in one_line(exc)
    # switched off explicitly, it connects
    assert "verbonden" in sender(smtp_server, tls_files, ca_file=None, verify_certificate=False).check()


def test_wrong_password(smtp_server, tls_files):
    with pytest.raises(DeliveryError) as exc:
        sender(smtp_server, tls_files, password="fout").send(payload=PAYLOAD, recipient="x@ind.example",
                                                             message_id=MESSAGE_ID)
    assert "aanmelden geweigerd" in one_line(exc) and "fout" not in str(exc.value)
    assert smtp_server.messages == []


def test_unreachable_server(tls_files):
    class Nowhere:
        host, port, username, password = "127.0.0.1", spare_port(), None, None

    with pytest.raises(DeliveryError) as exc:
        sender(Nowhere, tls_files).send(payload=PAYLOAD, recipient="x@ind.example", message_id=MESSAGE_ID)
    assert "verbinding geweigerd" in one_line(exc)


def test_tls_mismatch(smtp_server, tls_files):
    with pytest.raises(DeliveryError) as exc:  # implicit TLS against a STARTTLS port
        sender(smtp_server, tls_files, tls="ssl").check()
    assert "TLS-fout" in one_line(exc) or "time-out" in one_line(exc)


def test_no_credentials_over_plain_text(smtp_server, tls_files):
    with pytest.raises(DeliveryError, match="zonder TLS"):
        sender(smtp_server, tls_files, tls="none")
