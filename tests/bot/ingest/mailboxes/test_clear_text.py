"""Credentials never travel unencrypted to another machine: IMAP `tls = "none"` and an EWS or
Graph `http://` URL are refused unless the host is this machine's loopback, or the mailbox
sets `allow_insecure = true` (which `check` then warns about).

The "other machine" here is this machine's own non-loopback address: a listener there records
whether anything connected, so no test traffic ever leaves the machine."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main
from bot.ingest.mailboxes.base import is_loopback
from tests.paths import FIXTURES

CONTACTS = FIXTURES / "e2e" / "contacts.csv"


def own_address() -> str:
    """This machine's address on its default route (a UDP connect sends no packet)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        return probe.getsockname()[0]
    except OSError:
        return ""
    finally:
        probe.close()


class Listener:
    """Accepts connections on (address, a free port) and counts them; answers nothing."""

    def __init__(self, address: str) -> None:
        self.sock = socket.create_server((address, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def elsewhere(require_server):
    address = own_address()
    if not address or is_loopback(address):
        require_server("a non-loopback address of this machine", "no default route")
    listener = Listener(address)
    yield address, listener
    listener.close()


def write_config(tmp_path: Path, mailbox: dict) -> Path:
    values = dict(name="bvhk", organisation="IND", address="bvhk@ind.example") | mailbox
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///db.sqlite3"\n\n[[mailboxes]]\n{body}\n\n'
                    f'[delivery]\nkind = "outbox"\npath = "outbox"\n\n[routing]\ncontacts = "{CONTACTS}"\n',
                    encoding="utf-8")
    return path


def run(path: Path, *args: str):
    result = CliRunner().invoke(main, ["--config", str(path), *args],
                                env={"BVHK_TEST_SECRET": "geheim-wachtwoord"})
    assert "Traceback" not in result.output
    return result


def imap(host: str, port: int, **extra) -> dict:
    return dict(kind="imap", host=host, port=port, tls="none", username="svc-bvhk",
                password_env="BVHK_TEST_SECRET") | extra


def test_imap_without_tls_to_another_host_is_refused_before_any_connection(tmp_path, elsewhere):
    address, listener = elsewhere
    path = write_config(tmp_path, imap(address, listener.port))
    offline = run(path, "check", "--offline")
    assert offline.exit_code == 1
    assert f"FOUT  mailbox bvhk: geweigerd: tls = \"none\" zou het wachtwoord onversleuteld naar {address} sturen" \
        in offline.output
    online = run(path, "check")
    assert online.exit_code == 1 and "geweigerd" in online.output
    polled = run(path, "poll", "--json")
    assert polled.exit_code == 1 and "geweigerd" in polled.output
    assert listener.connections == 0  # the password was never sent anywhere
    assert "geheim-wachtwoord" not in offline.output + online.output + polled.output


def test_allow_insecure_lets_it_through_with_a_warning(tmp_path, elsewhere):
    address, listener = elsewhere
    path = write_config(tmp_path, imap(address, listener.port, allow_insecure=True))
    result = run(path, "check", "--offline")
    assert result.exit_code == 0, result.output
    assert f"let op mailbox bvhk: tls = \"none\" zou het wachtwoord onversleuteld naar {address} sturen" in result.output
    assert "toegestaan door allow_insecure = true" in result.output


def test_ews_over_http_to_another_host_is_refused(tmp_path, elsewhere):
    address, listener = elsewhere
    path = write_config(tmp_path, dict(kind="ews", service_endpoint=f"http://{address}:{listener.port}/EWS/Exchange.asmx",
                                       auth="basic", username="svc-bvhk", password_env="BVHK_TEST_SECRET"))
    for args in (("check", "--offline"), ("check",), ("poll",)):
        result = run(path, *args)
        assert result.exit_code == 1, args
        assert f"service_endpoint met http:// zou de aanmeldgegevens onversleuteld naar {address} sturen" in result.output
    assert listener.connections == 0


def test_loopback_without_tls_is_allowed(tmp_path):
    path = write_config(tmp_path, imap("127.0.0.1", 1143))
    result = run(path, "check", "--offline")
    assert result.exit_code == 0, result.output
    assert "geweigerd" not in result.output and "let op mailbox" not in result.output


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("192.0.2.10", False), ("10.1.2.3", False), ("", False), ("no-such-host.invalid", False),
])
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback
