"""The one settings object: read from TOML once at start-up, validated, passed down.

Every key is documented in `config.example.toml`. A wrong or missing key raises
`ConfigError` with one line naming the file, the line and the key; the CLI turns it into
exit status 2. Secrets never live in the file: a key ending in `_env` names the
environment variable that holds the secret, read only when a connection is made.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from classifiers.deidentify import MODES as DEIDENTIFY_MODES
from rules import ORGANISATIONS

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_RULES = PACKAGE_DIR.parent / "rules" / "data"


Organisation = Literal[*ORGANISATIONS]  # one of the organisations whose contact persons answer


class ConfigError(Exception):
    """A configuration problem, said in one line that names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Section):
    url: str = "sqlite:///bvhk-triage.sqlite3"
    body_retention_days: int = Field(30, ge=0)


class MaildirSettings(_Section):
    kind: Literal["maildir"]
    name: str
    organisation: Organisation
    address: str
    path: Path


class _RemoteMailboxSettings(_Section):
    """What the imap, ews and graph kinds share: marks, an optional move, where to begin."""

    # Marks: an IMAP keyword or Outlook category per question; "" switches one off.
    # Placeholders: {theme}, {theme_name}, {assignee}, {assignee_name}.
    mark_theme: str = "BvhK {theme_name}"
    mark_assignee: str = "BvhK {assignee_name}"
    mark_review: str = "BvhK te beoordelen"
    mark_quarantine: str = "BvhK quarantaine"
    move_to: str = ""  # a folder to move a handled question to; "" (default): never move
    since: date | None = None  # first read: pass over mail received before this date
    ca_file: Path | None = None  # extra CA certificates (PEM) to trust, e.g. PKIoverheid private
    # Credentials go unencrypted only to this machine (loopback); true also allows another host.
    allow_insecure: bool = False
    # Corrections from marks (bot.backlog.corrections): a theme mark of `mark_theme` other than the
    # predicted one, or a mark of `correction_marks` (mark -> theme key or organisation), that
    # a contact person sets on a question counts as their correction of it.
    corrections_from_marks: bool = False
    correction_marks: tuple[tuple[str, str], ...] = ()  # a TOML table; pairs keep the settings hashable

    @field_validator("correction_marks", mode="before")
    @classmethod
    def _table_as_pairs(cls, value):
        return tuple(value.items()) if isinstance(value, dict) else value

    @field_validator("mark_theme", "mark_assignee", "mark_review", "mark_quarantine")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        unknown = names - {"theme", "theme_name", "assignee", "assignee_name"}
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {{theme}}, "
                             "{theme_name}, {assignee} or {assignee_name}")
        return value


class ImapSettings(_RemoteMailboxSettings):
    kind: Literal["imap"]
    name: str
    organisation: Organisation
    address: str
    host: str
    port: int = 993
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    password_env: str
    folder: str = "INBOX"
    sent_folder: str = "Sent"
    verify_certificate: bool = True


class EwsSettings(_RemoteMailboxSettings):
    kind: Literal["ews"]
    name: str
    organisation: Organisation
    address: str
    server: str | None = None  # host name of the Exchange server; or service_endpoint
    service_endpoint: str | None = None
    autodiscover: bool = False
    auth: Literal["ntlm", "oauth2", "basic"] = "ntlm"
    username: str | None = None
    password_env: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    authority: str = "https://login.microsoftonline.com"  # oauth2: where tokens come from
    access: Literal["delegate", "impersonation"] = "delegate"
    folder: str = "inbox"  # a well-known folder name, or a path below the top, "Inbox/BvhK"
    sent_folder: str = "sentitems"
    verify_certificate: bool = True
    max_wait_seconds: int = Field(300, ge=0)  # longest throttling back-off to sit out

    @model_validator(mode="after")
    def _credentials_for_auth(self) -> "EwsSettings":
        if not (self.server or self.service_endpoint or self.autodiscover):
            raise ValueError("set server or service_endpoint (or autodiscover = true)")
        if self.server and self.service_endpoint:
            raise ValueError("set server or service_endpoint, not both")
        needed = ("tenant_id", "client_id", "client_secret_env") if self.auth == "oauth2" else (
            "username", "password_env")
        missing = [key for key in needed if not getattr(self, key)]
        if missing:
            raise ValueError(f"auth = \"{self.auth}\" needs {', '.join(missing)}")
        if self.auth == "oauth2" and self.access != "impersonation":
            raise ValueError('auth = "oauth2" (client credentials) needs access = "impersonation"')
        return self


class GraphSettings(_RemoteMailboxSettings):
    kind: Literal["graph"]
    name: str
    organisation: Organisation
    address: str
    tenant_id: str
    client_id: str
    client_secret_env: str
    base_url: str = "https://graph.microsoft.com/v1.0"
    authority: str = "https://login.microsoftonline.com"
    folder: str = "inbox"  # a well-known folder name, or a path below the top, "Inbox/BvhK"
    sent_folder: str = "sentitems"
    max_wait_seconds: int = Field(300, ge=0)  # longest 429/503 Retry-After to sit out


Mailbox = Annotated[
    Union[MaildirSettings, ImapSettings, EwsSettings, GraphSettings], Field(discriminator="kind")
]


class DeliverySettings(_Section):
    kind: Literal["outbox", "smtp", "mailbox"] = "outbox"
    from_: str = Field("bvhk-triage@localhost", alias="from")  # digests, reports, notices
    # Forwards go out as the functional mailbox the question came to, or as the address given
    # here for its answering organisation, e.g. { "IND" = "bvhk@ind.example" }.
    forward_from: dict[Organisation, str] = Field(default_factory=dict)
    path: Path = Path("outbox")  # outbox: one Maildir per recipient below this folder
    host: str = "localhost"
    port: int = 587
    tls: Literal["ssl", "starttls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    verify_certificate: bool = True
    mailbox: str | None = None  # kind = mailbox: the name of the ews/graph mailbox to send through
    ca_file: Path | None = None  # smtp: extra CA certificates (PEM) to trust
    timeout_seconds: float = Field(30.0, gt=0)  # smtp: connect and reply timeout
    retry_seconds: float = Field(60.0, gt=0)  # wait after a failed send; doubles per attempt, at most an hour
    max_attempts: int = Field(10, ge=1)  # then the delivery is marked failed (shown by check)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RoutingSettings(_Section):
    rules: Path = DEFAULT_RULES
    contacts: Path = Path("contacts.csv")
    read_automatic_replies: bool = False  # ews/graph: a contact person's automatic reply counts as absence
    # Who reviews a question the classifier or a rule leaves to a person, per organisation of the
    # mailbox it came to; without an entry: that organisation's coordinator from the contacts file.
    review_to: dict[Organisation, str] = Field(default_factory=dict)


class ClassifierSettings(_Section):
    models: Path = Path("models")
    min_confidence: float = Field(0.35, ge=0.0, le=1.0)
    training_data: Path | None = None  # JSONL the first model is trained on
    heldout_data: Path | None = None  # JSONL a new model and the active one are scored on


class ParsingSettings(_Section):
    max_bytes: int = Field(25_000_000, gt=0)
    max_depth: int = Field(20, gt=0)


class ScheduleSettings(_Section):
    poll_minutes: int = Field(5, ge=1)
    poll_seconds: int | None = Field(None, ge=1)  # overrides poll_minutes (tests, fast set-ups)
    worker_id: str = ""  # "" = <host>-<pid>; a fixed id per process lets a restart take its leases back at once
    lease_seconds: int = Field(60, ge=5)  # a mailbox is polled by one worker; its lease lapses after this
    heartbeat_seconds: int = Field(30, ge=1)  # `run` writes its heartbeat this often
    push: bool = True  # `run` reads a mailbox the moment mail arrives (IMAP IDLE; Graph every 30 s)
    digest_cron: str = "0 8 * * mon-fri"
    report_cron: str = "0 7 * * mon"
    purge_cron: str = "30 2 * * *"
    followup_cron: str = "30 7 * * mon-fri"  # reminders, escalations, reassignment
    retrain_cron: str = "0 3 * * sun"  # a new model from the week's corrections


class ReportSettings(_Section):
    skiv_recipients: list[str] = Field(default_factory=list)  # who receives the weekly report
    send_digest_when_empty: bool = False  # also send a digest when a coordinator has no open questions
    weeks: int = Field(8, ge=2, le=26)  # weeks shown in the report's week-over-week tables and charts


class PrivacySettings(_Section):
    # How names without a cue are found before anything is stored or learnt: "deduce" (lists
    # of Dutch names; 1.2 GB and 6 s per process) or "patterns" (numbers and cued names only).
    deidentify: Literal[*DEIDENTIFY_MODES] = "deduce"
    # The environment variable with the key of the sender hash (threads and askers are counted
    # on it); unset, the hash has no key, which `check` warns about.
    sender_key_env: str = "BVHK_SENDER_KEY"
    keep_models: int = Field(3, ge=1)  # model versions kept on disk; older ones are removed by `purge`


class OidcSettings(_Section):
    """Single sign-on by OpenID Connect (Entra ID, Keycloak, ...); off while `issuer` is empty."""

    issuer: str = ""  # e.g. https://login.microsoftonline.com/<tenant>/v2.0; its discovery document is read
    client_id: str = ""
    client_secret_env: str = "BVHK_OIDC_SECRET"
    role_claim: str = "roles"  # a claim holding contact|coordinator|admin|reader (a string or a list)
    organisation_claim: str = ""  # a coordinator's organisation, if the provider sends it
    # Without the role claim: the role from the contacts file (coordinator or contact), by e-mail.
    roles_from_contacts: bool = True


class WebSettings(_Section):
    """The web console (`bvhk-triage web`)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Where people reach it, e.g. https://bvhk.example.nl/triage: links in forwards and digests,
    # the base path behind a reverse proxy, and Secure cookies when it is https.
    public_url: str = ""
    trusted_proxies: list[str] = Field(default_factory=list)  # X-Forwarded-* honoured only from these
    secret_env: str = "BVHK_WEB_SECRET"  # the key that signs session cookies
    session_minutes: int = Field(30, ge=1, le=24 * 60)  # idle time before a session ends
    session_hours: int = Field(10, ge=1, le=24)  # a session ends after this long in any case
    page_size: int = Field(50, ge=10, le=500)
    # /health.json for monitoring: a request with "Authorization: Bearer <the value of this
    # variable>" needs no session (unset: only a signed-in admin or coordinator).
    health_token_env: str = "BVHK_HEALTH_TOKEN"
    in_run: bool = False  # also serve the console inside `bvhk-triage run` (one process for a small set-up)
    oidc: OidcSettings = OidcSettings()

    @property
    def base_path(self) -> str:
        return urlsplit(self.public_url).path.rstrip("/") if self.public_url else ""

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    def link(self, path: str) -> str:
        """The console's address of `path` (e.g. /questions/<kenmerk>); empty without a public_url."""
        return self.public_url.rstrip("/") + path if self.public_url else ""


class Settings(_Section):
    storage: StorageSettings = StorageSettings()
    privacy: PrivacySettings = PrivacySettings()
    mailboxes: list[Mailbox] = Field(default_factory=list)
    delivery: DeliverySettings = DeliverySettings()
    routing: RoutingSettings = RoutingSettings()
    classifier: ClassifierSettings = ClassifierSettings()
    parsing: ParsingSettings = ParsingSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    reports: ReportSettings = ReportSettings()
    web: WebSettings = WebSettings()
    source: Path | None = Field(None, exclude=True)  # the file it was read from

    @field_validator("mailboxes")
    @classmethod
    def _unique_names(cls, mailboxes: list) -> list:
        names = [m.name for m in mailboxes]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"mailboxnaam '{name}' komt twee keer voor")
        return mailboxes

    def mailbox(self, name: str):
        for m in self.mailboxes:
            if m.name == name:
                return m
        raise ConfigError(f"{self.source}: geen mailbox met de naam '{name}' in [[mailboxes]]")

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.delivery.from_.lower()})

    def missing_secrets(self) -> list[tuple[str, str, str]]:
        """(part, key, variable) for every `*_env` key whose environment variable is not set."""
        parts = [(f"mailbox {m.name}", m) for m in self.mailboxes] + [("aflevering", self.delivery)]
        if self.web.oidc.issuer:
            parts.append(("web.oidc", self.web.oidc))
        return [(where, key, value) for where, section in parts
                for key, value in section.model_dump().items()
                if key.endswith("_env") and value and os.environ.get(value) is None]

    @property
    def mailbox_organisations(self) -> dict[str, str]:
        """Each mailbox's name and the organisation it belongs to."""
        return {m.name: m.organisation for m in self.mailboxes}


def secret(env_name: str | None, *, key: str) -> str:
    """The secret held by the environment variable `env_name` (named by config key `key`)."""
    if not env_name:
        raise ConfigError(f"configuratiesleutel '{key}' ontbreekt: noem de omgevingsvariabele met het geheim")
    value = os.environ.get(env_name)
    if value is None:
        raise ConfigError(f"omgevingsvariabele {env_name} (uit '{key}') is niet gezet")
    return value


def load_settings(path: Path) -> Settings:
    """Read and validate the TOML file at `path`; relative paths are taken from its folder."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuratiebestand niet gevonden (maak er een met 'bvhk-triage init')")
    except OSError as exc:
        raise ConfigError(f"{path}: niet leesbaar: {exc.strerror}")
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: geen geldige TOML: {exc}")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, source, data, exc.errors()[0]))
    return _resolve_paths(settings.model_copy(update={"source": path}), path.parent)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else (base / p).resolve()

    url = settings.storage.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(fix(Path(url.removeprefix("sqlite:///"))))
    return settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"url": url}),
            "mailboxes": [
                m.model_copy(update={"path": fix(m.path)}) if m.kind == "maildir"
                else m.model_copy(update={"ca_file": fix(getattr(m, "ca_file", None))})
                for m in settings.mailboxes
            ],
            "delivery": settings.delivery.model_copy(
                update={"path": fix(settings.delivery.path), "ca_file": fix(settings.delivery.ca_file)}
            ),
            "routing": settings.routing.model_copy(
                update={"rules": fix(settings.routing.rules), "contacts": fix(settings.routing.contacts)}
            ),
            "classifier": settings.classifier.model_copy(
                update={
                    "models": fix(settings.classifier.models),
                    "training_data": fix(settings.classifier.training_data),
                    "heldout_data": fix(settings.classifier.heldout_data),
                }
            ),
        }
    )


def _describe(path: Path, source: str, data: dict, error: dict) -> str:
    """One line: file, line and key of a validation error."""
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part in _KINDS)]
    key = _dotted(loc, data)
    line = _line_of(source, loc)
    where = f"{path}:{line}" if line else str(path)
    kind = error["type"]
    if kind == "missing":
        return f"{where}: sleutel '{key}' ontbreekt"
    if kind == "extra_forbidden":
        return f"{where}: onbekende sleutel '{key}'"
    if kind == "union_tag_invalid":
        return f"{where}: sleutel '{key}.kind' moet maildir, imap, ews of graph zijn"
    return f"{where}: sleutel '{key}': {error['msg']}"


_KINDS = {"maildir", "imap", "ews", "graph"}


def _dotted(loc: list, data: dict) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def _line_of(source: str, loc: list) -> int | None:
    """Best effort: the line of the table and key the error is about."""
    lines = source.splitlines()
    table, index, key = None, None, None
    strs = [p for p in loc if isinstance(p, str)]
    ints = [p for p in loc if isinstance(p, int)]
    if strs:
        table = strs[0]
        key = strs[-1] if len(strs) > 1 else None
    if ints:
        index = ints[0]
    start = 0
    if table is not None:
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        hits = [i for i, text in enumerate(lines) if header.match(text)]
        if index is not None and index < len(hits):
            start = hits[index]
        elif hits:
            start = hits[0]
        else:
            return None
    if key is None or key == table:
        return start + 1
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start + (1 if table else 0), len(lines)):
        if i > start and lines[i].lstrip().startswith("[") and table:
            break
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if table else None
