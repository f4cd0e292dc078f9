"""Real servers for the tests, private to the test session and bound to 127.0.0.1 only.

- `dovecot`: a private Dovecot (Debian dovecot-imapd) with its own config, base_dir and
  log under a temporary folder, on spare ports (plain/STARTTLS and implicit TLS); never the
  system service. One IMAP user per test (`imap_user`), so tests do not share mail.
- `smtp_server` / `smtps_server`: aiosmtpd collecting what it receives (STARTTLS with
  AUTH on the first, implicit TLS on the second).
- `fake_ews` / `fake_graph`: local HTTPS endpoints answering like Exchange Web Services
  and Microsoft Graph (see tests/fixtures/ews and tests/fixtures/graph); they record the
  requests, so tests assert on what the real exchangelib and httpx clients send.
All TLS uses a throwaway CA made here (`tls_files`); a client trusts it via `ca_file`.
Registered in tests/conftest.py with `pytest_plugins = ["tests.servers"]`.
"""

from __future__ import annotations

import abc

import datetime as dt
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "geheim-voor-tests"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# --- TLS: a throwaway CA and a certificate for 127.0.0.1 -----------------------------------
@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_tls_files(folder: Path) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bvhk-triage test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(folder, 0o755)
    for path in (files.ca, files.cert, files.key):
        os.chmod(path, 0o644)  # Dovecot reads them as root before dropping privileges
    return files


@pytest.fixture(scope="session")
def tls_files() -> TlsFiles:
    folder = Path(tempfile.mkdtemp(prefix="bvhk-tls-"))
    yield make_tls_files(folder)
    shutil.rmtree(folder, ignore_errors=True)


# --- Dovecot ------------------------------------------------------------------------------
@dataclass
class Dovecot:
    """A private Dovecot instance: `port` speaks plain IMAP and STARTTLS, `tls_port` IMAPS."""

    root: Path
    port: int
    tls_port: int
    password: str = PASSWORD
    host: str = "127.0.0.1"
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_user(self) -> str:
        return f"bvhk{os.getpid()}x{next(self._users)}"

    def client(self, user: str):
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.password)
        return client

    def append(self, user: str, messages: list[bytes], *, folder: str = "INBOX", when: dt.datetime | None = None) -> None:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw, msg_time=when)
        finally:
            client.logout()

    def mailbox_config(self, user: str, **overrides) -> dict:
        """Keyword arguments for `bot.ingest.mailboxes.imap.ImapMailbox` reaching this server."""
        return dict(name="test", host=self.host, port=self.port, tls="none", username=user,
                    password=self.password, folder="INBOX", sent_folder="Sent") | overrides

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = 200
mail_fsync = never
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
"""


def start_dovecot(tls: TlsFiles, root: Path | None = None) -> Dovecot | str:
    """Start a private Dovecot; the instance, or why it could not start."""
    if not DOVECOT.exists():
        return f"{DOVECOT} is not installed (apt-get install dovecot-imapd; .ci/run does this)"
    root = root or Path(tempfile.mkdtemp(prefix="bvhk-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        login_user, internal_user, mail_user, mail_group = "dovenull", "dovecot", "nobody", "nogroup"
        shutil.chown(root / "mail", mail_user, mail_group)
    else:  # an ordinary user runs every Dovecot process as itself
        me = pwd.getpwuid(os.geteuid())
        login_user = internal_user = mail_user = me.pw_name
        mail_group = str(me.pw_gid)
    server = Dovecot(root=root, port=spare_port(), tls_port=spare_port())
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(
        root=root, cert=tls.cert, key=tls.key, password=server.password, port=server.port,
        tls_port=server.tls_port, login_user=login_user, internal_user=internal_user,
        mail_user=mail_user, mail_group=mail_group))
    errors = root / "start.err"
    try:  # it daemonises; its output goes to a file, not to pipes it would keep open
        with open(errors, "wb") as err:
            subprocess.run([str(DOVECOT), "-c", str(conf)], check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err, timeout=30)
    except (subprocess.SubprocessError, OSError) as exc:
        return f"dovecot did not start: {errors.read_text(errors='replace').strip() or exc}"
    if not (wait_for_port(server.port) and wait_for_port(server.tls_port)):
        log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
        server.stop()
        return f"dovecot did not listen on {server.port}: {log[-300:]}"
    return server


@pytest.fixture(scope="session")
def _dovecot_instance(tls_files):
    server = start_dovecot(tls_files)
    yield server
    if isinstance(server, Dovecot):
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def dovecot(_dovecot_instance, require_server) -> Dovecot:
    if isinstance(_dovecot_instance, str):
        require_server("Dovecot IMAP server", _dovecot_instance)
    return _dovecot_instance


@pytest.fixture
def imap_user(dovecot) -> str:
    """A user of its own on the private Dovecot: an empty mailbox for one test."""
    return dovecot.new_user()


# --- SMTP (aiosmtpd) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None


@dataclass
class SmtpServer:
    port: int
    messages: list[Received]
    username: str = "bvhk-smtp"
    password: str = PASSWORD
    host: str = "127.0.0.1"


class _Collect:
    def __init__(self, messages: list[Received]) -> None:
        self.messages = messages

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content, login))
        return "250 OK"


def _authenticator(username: str, password: str):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            username.encode(), password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


def start_smtp(tls: TlsFiles, *, implicit_tls: bool, require_server) -> tuple[SmtpServer, object]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        require_server("aiosmtpd SMTP server", str(exc))
    import logging

    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # the test server's own complaints
    server = SmtpServer(port=spare_port(), messages=[])
    options = dict(authenticator=_authenticator(server.username, server.password), auth_require_tls=True)
    if implicit_tls:  # aiosmtpd counts only STARTTLS as TLS for auth_require_tls
        options.update(ssl_context=tls.server_context(), auth_require_tls=False)
    else:
        options["tls_context"] = tls.server_context()
    controller = Controller(_Collect(server.messages), hostname="127.0.0.1", port=server.port, **options)
    try:
        controller.start()
    except Exception as exc:  # aiosmtpd raises several kinds while starting
        require_server("aiosmtpd SMTP server", f"{type(exc).__name__}: {exc}")
    return server, controller


@pytest.fixture
def smtp_server(tls_files, require_server) -> SmtpServer:
    """SMTP on a spare port with STARTTLS and AUTH (only after STARTTLS)."""
    server, controller = start_smtp(tls_files, implicit_tls=False, require_server=require_server)
    yield server
    controller.stop()


@pytest.fixture
def smtps_server(tls_files, require_server) -> SmtpServer:
    """SMTP with implicit TLS (port 465 style) and AUTH."""
    server, controller = start_smtp(tls_files, implicit_tls=True, require_server=require_server)
    yield server
    controller.stop()


# --- local HTTPS endpoints ----------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeHttps(abc.ABC):
    """A threaded HTTPS server on 127.0.0.1 that hands each request to `handle`."""

    def __init__(self, tls: TlsFiles) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.requests: list[Request] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                with fake._lock:
                    fake.requests.append(request)
                status, headers, body = fake.handle(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, *args) -> None:
                pass

        self.port = spare_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.socket = tls.server_context().wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @abc.abstractmethod
    def handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body of the answer to one request (FakeEws, FakeGraph)."""

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class IdentityProvider:
    """The token endpoint of an Entra ID-like authority (client credentials grant)."""

    tenant = "11111111-2222-3333-4444-555555555555"
    client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    client_secret = "client-geheim"

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.scopes: list[str] = []

    def token(self, request: Request, base: str) -> tuple[int, dict[str, str], bytes] | None:
        import json
        from urllib.parse import parse_qs

        if request.path.endswith("/v2.0/.well-known/openid-configuration"):
            root = f"{base}/{self.tenant}"
            doc = {"token_endpoint": f"{root}/oauth2/v2.0/token", "issuer": f"{root}/v2.0",
                   "authorization_endpoint": f"{root}/oauth2/v2.0/authorize"}
            return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()
        if not request.path.endswith("/oauth2/v2.0/token"):
            return None
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        self.scopes.append(form.get("scope", ""))
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret) or \
                f"/{self.tenant}/" not in request.path:
            body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
            return 401, {"Content-Type": "application/json"}, json.dumps(body).encode()
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


# --- a fake Exchange Web Services endpoint ------------------------------------------------
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"


def ews_fixture(fixture: str, **values) -> str:
    from string import Template

    return Template((FIXTURES / "ews" / f"{fixture}.xml").read_text()).substitute(values)


def ntlm_challenge_for(header: str) -> str | None:
    """For an NTLM NEGOTIATE message, a CHALLENGE message (base64) as a Windows server sends."""
    import base64
    import struct

    message = base64.b64decode(header[5:])
    if message[:8] != b"NTLMSSP\x00" or struct.unpack("<I", message[8:12])[0] != 1:
        return None
    target = "EWS".encode("utf-16-le")

    def pair(kind: int, value: bytes) -> bytes:
        return struct.pack("<HH", kind, len(value)) + value

    stamp = struct.pack("<Q", int((time.time() + 11644473600) * 10_000_000))
    info = (pair(2, target) + pair(1, "FAKEEWS".encode("utf-16-le")) + pair(4, "ews.example".encode("utf-16-le"))
            + pair(7, stamp) + pair(0, b""))
    flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x10000 | 0x80000 | 0x800000 | 0x2000000 | 0x20000000 | 0x80000000
    head = 56
    challenge = (b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), head)
                 + struct.pack("<I", flags) + os.urandom(8) + b"\x00" * 8
                 + struct.pack("<HHI", len(info), len(info), head + len(target))
                 + bytes([10, 0]) + struct.pack("<H", 20348) + b"\x00\x00\x00\x0f" + target + info)
    return base64.b64encode(challenge).decode()


def ntlm_user(header: str) -> str:
    """DOMAIN\\user of an NTLM AUTHENTICATE message."""
    import base64
    import struct

    message = base64.b64decode(header[5:])

    def field(at: int) -> str:
        length, _, offset = struct.unpack("<HHI", message[at : at + 8])
        return message[offset : offset + length].decode("utf-16-le")

    return f"{field(28)}\\{field(36)}"


@dataclass
class EwsItem:
    id: str
    mime: bytes
    received: dt.datetime
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    conversation_id: str = ""
    categories: list[str] = field(default_factory=list)
    changekey: int = 1


@dataclass(frozen=True)
class EwsCall:
    operation: str
    xml: object  # the parsed SOAP envelope (xml.etree.ElementTree.Element)
    text: str
    headers: dict[str, str]


class FakeEws(FakeHttps):
    """Answers EWS SOAP requests like Exchange 2016 does (tests/fixtures/ews), from a small
    in-memory mailbox; records every call, and can be told to fail the next ones."""

    path = "/EWS/Exchange.asmx"

    def __init__(self, tls: TlsFiles) -> None:
        super().__init__(tls)
        self.username, self.password = "EWS\\svc-bvhk", PASSWORD
        self.idp = IdentityProvider()
        self.folders: dict[str, list[EwsItem]] = {"inbox": [], "sentitems": []}
        self.subfolders: dict[tuple[str, str], str] = {("msgfolderroot", "inbox"): "inbox"}
        self.log: dict[str, list[tuple[str, EwsItem]]] = {"inbox": [], "sentitems": []}  # change log
        self.calls: list[EwsCall] = []
        self.scripted: dict[str, list[tuple[int, str]]] = {}  # operation -> (status, body) answered first
        self.blocked = False  # True: every EWS request gets 403, as when EWS is switched off
        self.sent_mime: list[bytes] = []
        self.ntlm_users: list[str] = []
        self.oof: dict[str, tuple[str, str, str]] = {}  # address -> (OofState, StartTime, EndTime)
        self.epoch = 1
        self._ids = itertools.count(1)

    @property
    def endpoint(self) -> str:
        return self.base + self.path

    # --- setting up the mailbox -----------------------------------------------------------
    def add(self, folder: str, mime: bytes, *, received: dt.datetime | None = None, **fields) -> EwsItem:
        from email.parser import BytesHeaderParser

        headers = BytesHeaderParser().parsebytes(mime)
        item = EwsItem(
            id=f"AAMkAGI2{next(self._ids):08d}AAA=", mime=mime,
            received=received or dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
            message_id=headers.get("Message-ID", ""), in_reply_to=headers.get("In-Reply-To", ""),
            references=headers.get("References", ""), **fields)
        self.folders[folder].append(item)
        self.log[folder].append(("Create", item))
        return item

    def change(self, folder: str, item: EwsItem, kind: str = "ReadFlagChange") -> None:
        self.log[folder].append((kind, item))

    def fail_next(self, operation: str, body: str, *, status: int = 200, times: int = 1) -> None:
        self.scripted.setdefault(operation, []).extend([(status, body)] * times)

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    # --- answering ------------------------------------------------------------------------
    def handle(self, request: Request):
        token = self.idp.token(request, self.base)
        if token is not None:
            return token
        if request.path != self.path or request.method != "POST":
            return 404, {}, b""
        header = request.headers.get("authorization", "")
        if header.startswith("NTLM "):
            challenge = ntlm_challenge_for(header)
            if challenge is not None:  # the first leg of the handshake: answer with a challenge
                return 401, {"WWW-Authenticate": f"NTLM {challenge}"}, b""
        if not self._authorised(header):
            return 401, {"WWW-Authenticate": "NTLM"}, b""
        if self.blocked:
            return 403, {}, b""
        import xml.etree.ElementTree as ET

        text = request.body.decode("utf-8")
        envelope = ET.fromstring(text)
        body = envelope.find(f"{{{SOAP}}}Body")
        operation = body[0].tag.split("}")[1]
        self.calls.append(EwsCall(operation, envelope, text, request.headers))
        if self.scripted.get(operation):
            status, answer = self.scripted[operation].pop(0)
            return status, {"Content-Type": "text/xml; charset=utf-8"}, answer.encode()
        answer = getattr(self, f"_{operation}", self._unsupported)(body[0])
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, ews_fixture("envelope", body=answer).encode()

    def _authorised(self, header: str) -> bool:
        import base64

        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (self.username, self.password)
        if header.startswith("Bearer "):
            return header[7:] in self.idp.issued
        if header.startswith("NTLM "):  # the third leg: who it is (the fake checks no hashes)
            self.ntlm_users.append(ntlm_user(header))
            return self.ntlm_users[-1] == self.username
        return False

    def _unsupported(self, element) -> str:
        operation = element.tag.split("}")[1]
        return ews_fixture("error", operation=operation, code="ErrorInvalidRequest", text="Not in the fake.")

    def _ConvertId(self, element) -> str:
        return ews_fixture("ConvertId")

    def add_folder(self, parent: str, name: str) -> None:
        """A folder of people's own below a folder (e.g. "BvhK verwerkt" below "inbox")."""
        self.folders[name], self.log[name] = [], []
        self.subfolders[(parent, name.lower())] = name

    def _folder_of(self, element) -> str:
        for tag in ("DistinguishedFolderId", "FolderId"):
            found = element.find(f".//{{{TNS}}}{tag}")
            if found is not None:
                return found.get("Id").removeprefix("folder-")
        return ""

    def _FindFolder(self, element) -> str:
        parent = self._folder_of(element.find(f"{{{MNS}}}ParentFolderIds"))
        wanted = element.find(f".//{{{TNS}}}Constant").get("Value")
        name = self.subfolders.get((parent, wanted.lower()))
        folders = ews_fixture("folder", id=f"folder-{name}", parent=f"folder-{parent}", name=name,
                              total=len(self.folders[name])) if name else ""
        return ews_fixture("FindFolder", total=1 if name else 0, folders=folders)

    def _GetFolder(self, element) -> str:
        parts = []
        for ref in element.find(f"{{{MNS}}}FolderIds"):
            name = ref.get("Id").removeprefix("folder-")
            items = self.folders.get(name, [])
            if name not in self.folders and name not in ("root", "msgfolderroot"):
                parts.append(ews_fixture("error-message", operation="GetFolder", code="ErrorFolderNotFound",
                                         text="The specified folder could not be found in the store."))
                continue
            parts.append(ews_fixture("GetFolder-folder", id=f"folder-{name}", parent="folder-root", name=name,
                                     total=len(items), unread=0))
        return ews_fixture("GetFolder", messages="\n".join(parts))

    @staticmethod
    def _fields(element) -> set[str]:
        return {p.get("FieldURI") for p in element.iter(f"{{{TNS}}}FieldURI")}

    def _render(self, item: EwsItem, fields: set[str], *, mime: bool = False) -> str:
        from xml.sax.saxutils import escape
        import base64

        values = {
            "item:DateTimeReceived": f"<t:DateTimeReceived>{item.received:%Y-%m-%dT%H:%M:%SZ}</t:DateTimeReceived>",
            "item:DateTimeSent": f"<t:DateTimeSent>{item.received:%Y-%m-%dT%H:%M:%SZ}</t:DateTimeSent>",
            "item:InReplyTo": f"<t:InReplyTo>{escape(item.in_reply_to)}</t:InReplyTo>" if item.in_reply_to else "",
            "item:ConversationId": f'<t:ConversationId Id="{item.conversation_id}" />' if item.conversation_id else "",
            "item:Categories": ("<t:Categories>" + "".join(f"<t:String>{escape(c)}</t:String>" for c in item.categories)
                                + "</t:Categories>") if item.categories else "",
            "message:InternetMessageId": f"<t:InternetMessageId>{escape(item.message_id)}</t:InternetMessageId>"
                                         if item.message_id else "",
            "message:References": f"<t:References>{escape(item.references)}</t:References>" if item.references else "",
        }
        # the order of the schema: Item fields first, then Message fields
        order = ["item:Categories", "item:DateTimeReceived", "item:DateTimeSent", "item:InReplyTo",
                 "item:ConversationId", "message:InternetMessageId", "message:References"]
        rendered = "".join(f"                {values[f]}\n" for f in order if f in fields and values[f])
        content = (f'                <t:MimeContent CharacterSet="UTF-8">{base64.b64encode(item.mime).decode()}'
                   "</t:MimeContent>\n") if mime else ""
        return ews_fixture("message", mime=content, id=item.id, changekey=f"CQAAABYA{item.changekey:04d}",
                           fields=rendered)

    def _SyncFolderItems(self, element) -> str:
        folder = self._folder_of(element.find(f"{{{MNS}}}SyncFolderId"))
        state_el = element.find(f"{{{MNS}}}SyncState")
        state = state_el.text if state_el is not None and state_el.text else ""
        start = self._decode_state(folder, state)
        if start is None:
            return ews_fixture("ErrorInvalidSyncStateData")
        limit = int(element.find(f"{{{MNS}}}MaxChangesReturned").text)
        fields = self._fields(element.find(f"{{{MNS}}}ItemShape"))
        batch = self.log[folder][start : start + limit]
        end = start + len(batch)
        changes = []
        for kind, item in batch:
            if kind == "Create":
                changes.append(f"            <t:Create>\n{self._render(item, fields)}            </t:Create>")
            elif kind == "Update":  # e.g. categories changed in Outlook: the item as it is now
                changes.append(f"            <t:Update>\n{self._render(item, fields)}            </t:Update>")
            elif kind == "ReadFlagChange":
                changes.append(f'            <t:ReadFlagChange><t:ItemId Id="{item.id}" ChangeKey="x" />'
                               "<t:IsRead>true</t:IsRead></t:ReadFlagChange>")
            else:
                changes.append(f'            <t:Delete><t:ItemId Id="{item.id}" ChangeKey="x" /></t:Delete>')
        return ews_fixture("SyncFolderItems", sync_state=self._encode_state(folder, end),
                           includes_last="true" if end >= len(self.log[folder]) else "false",
                           changes="\n".join(changes))

    def _encode_state(self, folder: str, position: int) -> str:
        import base64

        return base64.b64encode(f"H4sIAAAAAAAEAO29B2AcSZ|{self.epoch}|{folder}|{position}".encode()).decode()

    def _decode_state(self, folder: str, state: str) -> int | None:
        import base64

        if not state:
            return 0
        try:
            _, epoch, name, position = base64.b64decode(state).decode().split("|")
        except ValueError:
            return None
        return int(position) if (name, int(epoch)) == (folder, self.epoch) else None

    def invalidate_sync_states(self) -> None:
        """As after a mailbox move: every sync state handed out so far is refused."""
        self.epoch += 1

    def _find(self, item_id: str) -> EwsItem | None:
        return next((i for items in self.folders.values() for i in items if i.id == item_id), None)

    def _GetItem(self, element) -> str:
        shape = element.find(f"{{{MNS}}}ItemShape")
        fields = self._fields(shape)
        mime = "item:MimeContent" in fields
        parts = []
        for ref in element.find(f"{{{MNS}}}ItemIds"):
            item = self._find(ref.get("Id"))
            if item is None:
                parts.append(ews_fixture("error-message", operation="GetItem", code="ErrorItemNotFound",
                                         text="The specified object was not found in the store."))
            else:
                parts.append(ews_fixture("GetItem-message", item=self._render(item, fields, mime=mime)))
        return ews_fixture("GetItem", messages="\n".join(parts))

    def _UpdateItem(self, element) -> str:
        change = element.find(f".//{{{TNS}}}ItemChange")
        item = self._find(change.find(f"{{{TNS}}}ItemId").get("Id"))
        for set_field in change.iter(f"{{{TNS}}}SetItemField"):
            if set_field.find(f"{{{TNS}}}FieldURI").get("FieldURI") == "item:Categories":
                item.categories = [s.text for s in set_field.iter(f"{{{TNS}}}String")]
        item.changekey += 1
        for name, items in self.folders.items():
            if item in items:
                self.log[name].append(("Update", item))
        return ews_fixture("UpdateItem", id=item.id, changekey=f"CQAAABYA{item.changekey:04d}")

    def _GetUserOofSettingsRequest(self, element) -> str:
        address = element.find(f".//{{{TNS}}}Address").text
        if address not in self.oof:
            return ews_fixture("GetUserOofSettings-error")
        state, start, end = self.oof[address]
        return ews_fixture("GetUserOofSettings", state=state, start=start, end=end)

    def _MoveItem(self, element) -> str:
        target = self._folder_of(element.find(f"{{{MNS}}}ToFolderId"))
        ref = element.find(f"{{{MNS}}}ItemIds")[0]
        item = self._find(ref.get("Id"))
        for name, items in self.folders.items():
            if item in items:
                items.remove(item)
                self.log[name].append(("Delete", item))
        self.folders.setdefault(target, []).append(item)
        return ews_fixture("MoveItem", id=item.id, changekey="CQAAABYA9999")

    def _CreateItem(self, element) -> str:
        import base64

        mime = base64.b64decode(element.find(f".//{{{TNS}}}MimeContent").text)
        self.sent_mime.append(mime)
        if element.get("MessageDisposition") == "SendAndSaveCopy":
            self.add("sentitems", mime)
        return ews_fixture("CreateItem")

    def _FindItem(self, element) -> str:
        folder = self._folder_of(element.find(f"{{{MNS}}}ParentFolderIds"))
        restriction = element.find(f"{{{MNS}}}Restriction")
        items = list(self.folders.get(folder, []))
        if restriction is not None:
            uri = restriction.find(f".//{{{TNS}}}FieldURI").get("FieldURI")
            value = restriction.find(f".//{{{TNS}}}Constant").get("Value")
            key = {"message:InternetMessageId": "message_id", "item:ConversationId": "conversation_id"}[uri]
            items = [i for i in items if getattr(i, key) == value]
        fields = self._fields(element.find(f"{{{MNS}}}ItemShape"))
        rendered = "\n".join(self._render(i, fields) for i in items)
        return ews_fixture("FindItem", total=len(items), items=rendered)


@pytest.fixture
def fake_ews(tls_files) -> FakeEws:
    server = FakeEws(tls_files)
    yield server
    server.stop()


# --- a fake Microsoft Graph endpoint ------------------------------------------------------
def graph_fixture(name: str) -> dict:
    import json

    return json.loads((FIXTURES / "graph" / f"{name}.json").read_text())


@dataclass
class GraphMessage:
    id: str
    mime: bytes
    received: dt.datetime
    folder: str
    internet_message_id: str = ""
    conversation_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    categories: list[str] = field(default_factory=list)


class FakeGraph(FakeHttps):
    """Answers Microsoft Graph mail requests (v1.0) from a small in-memory mailbox: delta
    pages with nextLink/deltaLink, $value, PATCH, move, sendMail; 410 for expired links, and
    scripted answers (429 with Retry-After, 403, ...) for the next requests."""

    def __init__(self, tls: TlsFiles, address: str = "bvhk@ind.example") -> None:
        super().__init__(tls)
        self.address = address
        self.idp = IdentityProvider()
        self.messages: dict[str, GraphMessage] = {}
        self.log: dict[str, list[tuple[str, GraphMessage]]] = {"inbox": [], "sentitems": []}
        self.names: dict[str, str] = {"inbox": "Inbox", "sentitems": "Sent Items"}
        self.children: dict[tuple[str, str], str] = {}
        self.scripted: list[tuple[str, int, dict, bytes]] = []
        self.sent_mime: list[bytes] = []
        self.automatic_replies: dict[str, dict] = {}  # address -> fields over the fixture's document
        self.epoch = 1
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.base}/v1.0"

    def add(self, folder: str, mime: bytes, *, received: dt.datetime | None = None, **fields) -> GraphMessage:
        from email.parser import BytesHeaderParser

        headers = BytesHeaderParser().parsebytes(mime)
        message = GraphMessage(
            id=f"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A{next(self._ids):06d}=", mime=mime, folder=folder,
            received=received or dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
            internet_message_id=headers.get("Message-ID", ""), in_reply_to=headers.get("In-Reply-To", ""),
            references=headers.get("References", ""), **fields)
        self.messages[message.id] = message
        self.log[folder].append(("created", message))
        return message

    def add_folder(self, parent: str, name: str) -> str:
        folder_id = f"AAMkFolder{len(self.names)}="
        self.names[folder_id], self.log[folder_id] = name, []
        self.children[(parent, name.lower())] = folder_id
        return folder_id

    def fail_next(self, path_part: str, status: int, *, headers: dict | None = None, body: dict | None = None) -> None:
        import json

        self.scripted.append((path_part, status, headers or {}, json.dumps(body or {}).encode()))

    def expire_delta_links(self) -> None:
        self.epoch += 1

    def paths(self, method: str = "GET") -> list[str]:
        from urllib.parse import unquote

        return [unquote(r.path) for r in self.requests if r.method == method and "/v1.0/" in r.path]

    # --- answering ------------------------------------------------------------------------
    def handle(self, request: Request):
        import json
        from urllib.parse import parse_qs, unquote, urlsplit

        token = self.idp.token(request, self.base)
        if token is not None:
            return token
        if request.headers.get("authorization", "")[7:] not in self.idp.issued:
            return self._json(401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}})
        for index, (part, status, headers, body) in enumerate(self.scripted):
            if part in unquote(request.path):
                del self.scripted[index]
                return status, {"Content-Type": "application/json"} | headers, body
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path).removeprefix("/v1.0")
        if path.endswith("/mailboxSettings/automaticRepliesSetting") and request.method == "GET":
            user = path.split("/")[2]
            if user not in self.automatic_replies:
                return self._json(404, graph_fixture("error-user-not-found"))
            return self._json(200, graph_fixture("automatic-replies-setting") | self.automatic_replies[user])
        prefix = f"/users/{self.address}"
        if not path.startswith(prefix + "/"):
            return self._json(404, graph_fixture("error-user-not-found"))
        parts = path[len(prefix) + 1:].split("/")
        body = json.loads(request.body) if request.body and request.headers.get("content-type", "").startswith(
            "application/json") else request.body
        if parts[0] == "mailFolders":
            return self._folders(request.method, parts[1:], query, request.headers)
        if parts[0] == "messages":
            return self._message(request.method, parts[1:], query, body)
        if parts == ["sendMail"] and request.method == "POST":
            import base64

            mime = base64.b64decode(request.body)
            self.sent_mime.append(mime)
            self.add("sentitems", mime)
            return 202, {}, b""
        return self._json(400, {"error": {"code": "BadRequest", "message": "Not in the fake."}})

    def _json(self, status: int, document: dict):
        import json

        return status, {"Content-Type": "application/json"}, json.dumps(document).encode()

    def _folder_key(self, name: str) -> str | None:
        return name.lower() if name.lower() in self.log else (name if name in self.names else None)

    def _folders(self, method, parts, query, headers):
        if not parts:
            wanted = query.get("$filter", "").split("'")[1].lower()
            found = self.children.get(("msgfolderroot", wanted))
            return self._json(200, {"value": [{"id": found}] if found else []})
        key = self._folder_key(parts[0])
        if key is None:
            return self._json(404, graph_fixture("error-not-found"))
        if len(parts) == 1:
            folder = graph_fixture("mail-folder")
            folder.update(id=key, displayName=self.names[key],
                          totalItemCount=sum(1 for m in self.messages.values() if m.folder == key))
            return self._json(200, folder)
        if parts[1] == "childFolders":
            wanted = query.get("$filter", "").split("'")[1].lower()
            found = self.children.get((key, wanted))
            return self._json(200, {"value": [{"id": found}] if found else []})
        if parts[1:] == ["messages", "delta"]:
            return self._delta(key, query, headers)
        if parts[1:] == ["messages"]:
            field_name, _, value = query["$filter"].partition(" eq ")
            attribute = {"conversationId": "conversation_id", "internetMessageId": "internet_message_id"}[field_name]
            value = value.strip("'").replace("''", "'")
            found = [m for m in self.messages.values() if m.folder == key and getattr(m, attribute) == value]
            return self._json(200, {"value": [{"id": m.id, "internetMessageId": m.internet_message_id} for m in found]})
        return self._json(400, {"error": {"code": "BadRequest", "message": "Not in the fake."}})

    def _delta(self, folder, query, headers):
        import base64
        import json
        from urllib.parse import quote

        if "IdType=\"ImmutableId\"" not in headers.get("prefer", ""):
            return self._json(400, {"error": {"code": "BadRequest", "message": "the tests want immutable ids"}})
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token:
            state = json.loads(base64.urlsafe_b64decode(token))
            if state["epoch"] != self.epoch:
                return self._json(410, graph_fixture("error-sync-state-not-found"))
        else:
            floor = query.get("$filter", "").removeprefix("receivedDateTime ge ")
            state = {"epoch": self.epoch, "position": 0, "select": query.get("$select", ""), "floor": floor,
                     "created_only": query.get("changeType") == "created"}
        size = int(headers.get("prefer", "").partition("odata.maxpagesize=")[2].split(",")[0] or 10)
        events = self.log[folder]
        start = state["position"]
        batch = events[start : start + size]
        fields = [f for f in state["select"].split(",") if f]
        value = []
        for kind, message in batch:
            if kind == "created" and state["floor"] and f"{message.received:%Y-%m-%dT%H:%M:%SZ}" < state["floor"]:
                continue
            if kind != "created" and state["created_only"]:
                continue
            if kind == "deleted":
                value.append(graph_fixture("delta-removed") | {"id": message.id})
                continue
            value.append({"@odata.type": "#microsoft.graph.message", "id": message.id}
                         | {f: v for f, v in self._properties(message).items() if f in fields})
        end = start + len(batch)
        page = graph_fixture("delta-page")
        page["value"] = value
        link_state = base64.urlsafe_b64encode(json.dumps(state | {"position": end}).encode()).decode()
        link = f"{self.base_url}/users/{quote(self.address)}/mailFolders/{folder}/messages/delta"
        del page["@odata.nextLink"]
        if end < len(events):
            page["@odata.nextLink"] = f"{link}?$skiptoken={link_state}"
        else:
            page["@odata.deltaLink"] = f"{link}?$deltatoken={link_state}"
        return self._json(200, page)

    @staticmethod
    def _properties(message: GraphMessage) -> dict:
        stamp = f"{message.received:%Y-%m-%dT%H:%M:%SZ}"
        return {"receivedDateTime": stamp, "sentDateTime": stamp, "internetMessageId": message.internet_message_id,
                "conversationId": message.conversation_id, "categories": message.categories}

    def _message(self, method, parts, query, body):
        message = self.messages.get(parts[0])
        if message is None:
            return self._json(404, graph_fixture("error-not-found"))
        if parts[1:] == ["$value"]:
            return 200, {"Content-Type": "text/plain"}, message.mime
        if parts[1:] == ["move"] and method == "POST":
            target = self._folder_key(body["destinationId"])
            self.log[message.folder].append(("deleted", message))
            message.folder = target
            self.log[target].append(("created", message))
            return self._json(201, {"id": message.id})
        if method == "PATCH":
            message.categories = list(body["categories"])
            self.log[message.folder].append(("updated", message))
            return self._json(200, {"id": message.id, "categories": message.categories})
        fields = query.get("$select", "").split(",")
        document = {"id": message.id} | {f: v for f, v in self._properties(message).items() if f in fields}
        if "$expand" in query:
            extended = [("String 0x1042", message.in_reply_to), ("String 0x1039", message.references)]
            document["singleValueExtendedProperties"] = [{"id": i, "value": v} for i, v in extended if v]
        return self._json(200, document)


@pytest.fixture
def fake_graph(tls_files) -> FakeGraph:
    server = FakeGraph(tls_files)
    yield server
    server.stop()
