"""The `ews` kind: Exchange Server on-premises through Exchange Web Services (exchangelib).

Exchange Online blocks EWS from 1 October 2026 and ends it on 1 April 2027; use the
`graph` kind there. The shared mailbox is opened by delegate access or impersonation,
with NTLM or Basic (on-premises) or OAuth2 client credentials, at an explicit server or
service endpoint (autodiscover only when asked). One exchangelib account lives per
mailbox for the life of the process.

Reading is SyncFolderItems with a stored sync state, in batches, asking only for the
item id and the time received, so a large inbox is never fetched whole; the MIME of the
new items alone is then read with GetItem. The cursor is a small JSON object: `state` is
the sync state from which the batch of the item is read again (the new state once its
batch is done) and `received` the time the last handed-out item arrived. A sync state the
server no longer accepts (ErrorInvalidSyncStateData) starts a fresh sync that hands out
only what arrived from two days before `received` on; the worker recognises those items
by their item id and skips them. ErrorServerBusy is sat out as long as the server asks
(exchangelib's back-off, up to `max_wait_seconds`); a refused login, a 403 (EWS switched
off) or an unreachable server fail at once, as one line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    Account,
    Configuration,
    Credentials,
    FaultTolerance,
    Identity,
    Message,
    OAuth2Credentials,
)
from exchangelib import errors as ews_errors
from exchangelib.properties import ConversationId, ItemId
from exchangelib.protocol import BaseProtocol
from exchangelib.services import SyncFolderItems
from exchangelib.util import TLS_ERRORS
from oauthlib.oauth2 import OAuth2Error

from bot.ingest.mailboxes.base import (
    AutomaticReply,
    Fetched,
    MailboxError,
    Marked,
    header_block,
    requests_verify,
)

log = logging.getLogger(__name__)
# exchangelib logs whole SOAP requests on unexpected errors; those hold mail (AVG): keep them out
logging.getLogger("exchangelib").setLevel(logging.CRITICAL)

BATCH = 100  # changes per SyncFolderItems request
MIME_CHUNK = 10  # items per GetItem request for MIME content
RESYNC_MARGIN = timedelta(days=2)
INBOX_FIELDS = ["datetime_received"]
SENT_FIELDS = ["message_id", "in_reply_to", "references", "conversation_id", "datetime_sent"]


# --- the cursor ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EwsCursor:
    state: str = ""
    received: datetime | None = None

    def encode(self) -> str:
        return json.dumps({"state": self.state, "received": self.received.isoformat() if self.received else None})

    @classmethod
    def decode(cls, text: str) -> "EwsCursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
            received = datetime.fromisoformat(data["received"]) if data.get("received") else None
            return cls(state=data.get("state") or "", received=received)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise MailboxError("opgeslagen EWS-cursor is onleesbaar") from None


# --- TLS per endpoint ---------------------------------------------------------------------
class _TlsAdapter(requests.adapters.HTTPAdapter):
    """Certificate checks per host: `verify_certificate` and `ca_file` of each ews mailbox."""

    verify_by_host: dict[str, bool | str] = {}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        host = requests.utils.urlparse(request.url).netloc.lower()
        return super().send(request, stream=stream, timeout=timeout,
                            verify=self.verify_by_host.get(host, verify), cert=cert, proxies=proxies)


BaseProtocol.HTTP_ADAPTER_CLS = _TlsAdapter


# --- authentication and throttling --------------------------------------------------------
class _ClientCredentials(OAuth2Credentials):
    """OAuth2 client credentials from a configurable authority (Entra ID by default)."""

    def __init__(self, *, authority: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.authority = authority.rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.authority}/{self.tenant_id}/oauth2/v2.0/token"


class _Forbidden(ews_errors.TransportError):
    """HTTP 403: EWS is switched off for the tenant or mailbox, or an app policy blocks it."""


class _Patient(FaultTolerance):
    """Sits out throttling as long as the server asks (up to `max_wait`), but a refused
    login (401) or a block (403) is final at once: retrying them only locks accounts."""

    def raise_response_errors(self, response):
        if response.status_code == 401:
            raise ews_errors.UnauthorizedError("HTTP 401")
        if response.status_code == 403:
            raise _Forbidden("HTTP 403")
        return super().raise_response_errors(response)


_ACCOUNTS: dict[tuple, Account] = {}
_ACCOUNTS_LOCK = threading.Lock()


def _account(config, secret: str) -> Account:
    """The one long-lived exchangelib account of this mailbox (made on first use)."""
    key = (config, secret)
    with _ACCOUNTS_LOCK:
        if key in _ACCOUNTS:
            return _ACCOUNTS[key]
    access = IMPERSONATION if config.access == "impersonation" else DELEGATE
    if config.auth == "oauth2":
        identity = Identity(primary_smtp_address=config.address)
        credentials = _ClientCredentials(
            authority=config.authority, client_id=config.client_id, client_secret=secret,
            tenant_id=config.tenant_id, identity=identity)
        auth_type = None  # OAUTH2, set by exchangelib for these credentials
        hosts = [requests.utils.urlparse(config.authority).netloc]
    else:
        credentials = Credentials(config.username, secret)
        auth_type = NTLM if config.auth == "ntlm" else BASIC
        hosts = []
    endpoint = config.service_endpoint or (f"https://{config.server}/EWS/Exchange.asmx" if config.server else None)
    if endpoint:
        hosts.append(requests.utils.urlparse(endpoint).netloc)
    try:
        verify = requests_verify(verify=config.verify_certificate, ca_file=config.ca_file)
    except ValueError as exc:
        raise MailboxError(str(exc)) from None
    for host in hosts:
        _TlsAdapter.verify_by_host[host.lower()] = verify
    policy = _Patient(max_wait=config.max_wait_seconds)
    if config.autodiscover and not endpoint:
        account = Account(primary_smtp_address=config.address, credentials=credentials, autodiscover=True,
                          access_type=access, config=Configuration(credentials=credentials, auth_type=auth_type,
                                                                    retry_policy=policy))
    else:
        if not endpoint:
            raise MailboxError("zet server of service_endpoint (of autodiscover = true)")
        account = Account(primary_smtp_address=config.address, access_type=access, autodiscover=False,
                          config=Configuration(credentials=credentials, service_endpoint=endpoint,
                                               auth_type=auth_type, retry_policy=policy))
    with _ACCOUNTS_LOCK:
        return _ACCOUNTS.setdefault(key, account)


def _forget(config, secret: str) -> None:
    with _ACCOUNTS_LOCK:
        _ACCOUNTS.pop((config, secret), None)


# --- the mailbox --------------------------------------------------------------------------
class EwsMailbox:
    can_mark = True

    def __init__(self, config, secret: str) -> None:
        self.name = config.name
        self.config = config
        self._secret = secret
        endpoint = config.service_endpoint or config.server or "autodiscover"
        self.where = f"EWS {endpoint}"

    @classmethod
    def from_config(cls, config) -> "EwsMailbox":
        from bot.settings import secret

        if config.auth == "oauth2":
            return cls(config, secret(config.client_secret_env, key="client_secret_env"))
        return cls(config, secret(config.password_env, key="password_env"))

    # --- the interface ---------------------------------------------------------------------
    def fetch(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.config.folder, cursor, fields=INBOX_FIELDS, since=self.config.since)

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.config.sent_folder, cursor, fields=SENT_FIELDS, since=None)

    def mark(self, source_id: str, labels: Sequence[str]) -> None:
        with self._errors(self.config.folder):
            account = self._account()
            (item,) = list(account.fetch(ids=[ItemId(id=source_id)], only_fields=["categories"]))
            if isinstance(item, ews_errors.ErrorItemNotFound):
                raise MailboxError(f"{self.where}: bericht niet meer in map '{self.config.folder}'")
            if isinstance(item, Exception):
                raise item
            present = list(item.categories or [])
            wanted = present + [label for label in labels if label not in present]
            if wanted != present:
                item.categories = wanted
                item.save(update_fields=["categories"])  # UpdateItem: this field only, nothing else
            if self.config.move_to:
                item.move(self._folder(self.config.move_to))

    def check(self) -> str:
        with self._errors(self.config.folder):
            account = self._account()
            inbox = self._folder(self.config.folder)
            sent = self._folder(self.config.sent_folder)
            if self.config.move_to:
                self._folder(self.config.move_to)
            build = account.version.build
        return (f"{self.where} ({self.config.auth}, {self.config.access}): {self.config.address} bereikbaar; "
                f"{self.config.folder} {inbox.total_count} items, {self.config.sent_folder} {sent.total_count} items; "
                f"Exchange {build}")

    def close(self) -> None:
        """Nothing to close: the account and its connections live on for the next poll."""

    # --- what kind = mailbox delivery and reply detection use --------------------------------
    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        """Send stored MIME as the shared address, a copy in Sent Items; never twice."""
        with self._errors(self.config.sent_folder):
            account = self._account()
            if account.sent.filter(message_id=message_id).only("id").count():
                return  # sent before the outcome was stored: recognised by its Message-ID
            Message(account=account, folder=account.sent, mime_content=payload).send_and_save()

    def changed_marks(self, cursor: str) -> tuple[list[Marked], str]:
        """Inbox items created or updated since `cursor` (a SyncFolderItems state of its own),
        with their categories now (items without any are left out), and the new state. A state
        the server no longer accepts starts a full sync; what was recorded before is recognised."""
        state, found = cursor, {}
        with self._errors(self.config.folder):
            folder = self._folder(self.config.folder)
        while True:
            try:
                with self._errors(self.config.folder):
                    items, state, done = self._batch(folder, state, ["categories"],
                                                     kinds=(SyncFolderItems.CREATE, SyncFolderItems.UPDATE))
            except _InvalidSyncState:
                log.info("%s: sync state of the marks no longer valid; reading all marks again", self.name)
                state, found = "", {}
                continue
            found.update((item.id, tuple(item.categories or ())) for item in items)
            if done:
                return [Marked(source_id, marks) for source_id, marks in found.items() if marks], state

    def automatic_reply(self, address: str) -> AutomaticReply:
        """A contact person's automatic-reply setting (GetUserOofSettings on their own mailbox).
        The account needs the right to it: full access (access = "delegate") or the
        ApplicationImpersonation role over that mailbox (access = "impersonation")."""
        with self._errors("automatische antwoorden"):
            shared = self._account()
            person = Account(primary_smtp_address=address, access_type=shared.access_type, autodiscover=False,
                             config=shared.protocol.config)
            oof = person.oof_settings
        status = {"Enabled": "enabled", "Scheduled": "scheduled"}.get(oof.state, "disabled")
        return AutomaticReply(status, oof.start, oof.end)

    def message_ids_in_conversation(self, conversation_id: str) -> list[str]:
        """Message-IDs of the inbox items in one conversation (a reply without references)."""
        with self._errors(self.config.folder):
            folder = self._folder(self.config.folder)
            items = folder.filter(conversation_id=ConversationId(id=conversation_id)).only("message_id")
            return [item.message_id for item in items if item.message_id]

    # --- reading ---------------------------------------------------------------------------
    def _read(self, folder_name: str, cursor_text: str, *, fields: list[str], since) -> Iterator[Fetched]:
        cursor = EwsCursor.decode(cursor_text)
        state, received = cursor.state, cursor.received
        floor = datetime(since.year, since.month, since.day, tzinfo=timezone.utc) if since and not state else None
        with self._errors(folder_name):
            folder = self._folder(folder_name)
        while True:
            try:
                with self._errors(folder_name):
                    creates, new_state, done = self._batch(folder, state, fields)
            except _InvalidSyncState:
                log.info("%s: sync state no longer valid; syncing again with de-duplication", self.name)
                state, floor = "", (received - RESYNC_MARGIN) if received else floor
                continue
            when = "datetime_sent" if "datetime_sent" in fields else "datetime_received"
            creates = [item for item in creates if floor is None or (getattr(item, when) or floor) >= floor]
            items = list(self._with_content(creates, fields))
            for index, (item, raw, conversation) in enumerate(items):
                received = getattr(item, when) or received
                last = index == len(items) - 1
                position = EwsCursor(new_state if last else state, received)
                yield Fetched(source_id=item.id, raw=raw, cursor=position.encode(), conversation_id=conversation)
            state = new_state
            if done:
                return

    def _batch(self, folder, state: str, fields: list[str], kinds: tuple[str, ...] = (SyncFolderItems.CREATE,)):
        """One SyncFolderItems request: the items created (or `kinds`) since `state`, the new state, done?"""
        service = SyncFolderItems(account=self._account())
        paths = {f for f in folder.normalize_fields(fields=fields) if not f.field.is_attribute}
        try:
            changes = list(service.call(folder=folder, shape="IdOnly", additional_fields=paths,
                                        sync_state=state or None, ignore=None,
                                        max_changes_returned=BATCH, sync_scope=None))
        except ews_errors.ErrorInvalidSyncStateData:
            raise _InvalidSyncState() from None
        for change in changes:
            if isinstance(change, ews_errors.ErrorInvalidSyncStateData):
                raise _InvalidSyncState()
            if isinstance(change, Exception):
                raise change
        creates = [item for kind, item in changes if kind in kinds]
        return creates, service.sync_state, bool(service.includes_last_item_in_range)

    def _with_content(self, creates, fields: list[str]):
        """(item, raw, conversation id): MIME read with GetItem for the inbox; headers for sent items."""
        if "datetime_sent" in fields:
            for item in creates:
                raw = header_block(message_id=item.message_id or "", in_reply_to=item.in_reply_to or "",
                                   references=item.references or "", date=item.datetime_sent)
                yield item, raw, item.conversation_id.id if item.conversation_id else ""
            return
        for start in range(0, len(creates), MIME_CHUNK):
            chunk = creates[start : start + MIME_CHUNK]
            with self._errors(self.config.folder):
                got = list(self._account().fetch(ids=[ItemId(id=i.id, changekey=i.changekey) for i in chunk],
                                                 only_fields=["mime_content"]))
            for item, full in zip(chunk, got):
                if isinstance(full, ews_errors.ErrorItemNotFound):
                    continue  # deleted or moved since the sync: nothing to read
                if isinstance(full, Exception):
                    raise MailboxError(f"{self.where}: item niet leesbaar ({type(full).__name__})")
                yield item, full.mime_content or b"", ""

    def _folder(self, name: str):
        account = self._account()
        well_known = {"inbox": lambda: account.inbox, "sentitems": lambda: account.sent}
        if name.lower() in well_known:
            return well_known[name.lower()]()
        folder = account.msg_folder_root
        for part in name.strip("/").split("/"):
            folder = folder // part  # one FindFolder by display name per level
        return folder

    # --- connection and errors -------------------------------------------------------------
    def _account(self) -> Account:
        return _account(self.config, self._secret)

    @contextmanager
    def _errors(self, folder: str) -> Iterator[None]:
        try:
            yield
        except (MailboxError, _InvalidSyncState):
            raise
        except Exception as exc:  # exchangelib, requests and oauthlib each raise their own kinds
            line = describe(exc, folder=folder)
            if line is None:
                raise
            if isinstance(exc, (ews_errors.UnauthorizedError, OAuth2Error)):
                _forget(self.config, self._secret)
            raise MailboxError(f"{self.where}: {line}") from None


class _InvalidSyncState(Exception):
    pass


def describe(exc: BaseException, *, folder: str) -> str | None:
    """One Dutch line for what went wrong talking EWS; None for an error that is a bug here."""
    e = ews_errors
    if isinstance(exc, e.UnauthorizedError):
        return "aanmelden geweigerd (controleer gebruikersnaam en wachtwoord, of client-id en geheim)"
    if isinstance(exc, OAuth2Error):
        return f"token geweigerd door de authority ({exc.error})"
    if isinstance(exc, _Forbidden):
        return ("EWS geweigerd (HTTP 403): EWS staat uit voor deze tenant of mailbox, of beleid blokkeert de app; "
                "Exchange Online: gebruik kind = graph")
    if isinstance(exc, (e.ErrorImpersonateUserDenied, e.ErrorAccessDenied, e.ErrorNonExistentMailbox,
                        e.ErrorImpersonationFailed, e.ErrorMailboxMoveInProgress)):
        return f"geen toegang tot de gedeelde mailbox ({type(exc).__name__}); controleer de rechten (access)"
    if isinstance(exc, (e.ErrorFolderNotFound, e.ErrorInvalidIdMalformed)) or (
            isinstance(exc, KeyError) and "folder" in str(exc).lower()):
        return f"map '{folder}' bestaat niet"
    if isinstance(exc, e.ErrorTimeoutExpired) and "Reraised from" in str(exc):
        pass  # a connection failure in exchangelib's words: told below
    elif isinstance(exc, e.ResponseMessageError) and not isinstance(exc, e.ErrorServerBusy):
        return f"EWS-fout {type(exc).__name__}"
    if isinstance(exc, e.RateLimitError):
        return "server blijft overbelast (ErrorServerBusy) langer dan max_wait_seconds; volgende poll opnieuw"
    if isinstance(exc, e.AutoDiscoverError):
        return "autodiscover vond geen EWS-adres; zet server of service_endpoint"
    if isinstance(exc, (e.TransportError, e.ErrorTimeoutExpired, requests.RequestException, OSError)):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return "TLS-certificaat niet vertrouwd; zie ca_file"
        if isinstance(exc, TLS_ERRORS) or "SSLError" in text or "SSL" in text.split("(")[0]:
            return "TLS-fout; klopt het adres (https) en de poort?"
        if "Connection refused" in text or "NewConnectionError" in text or "ConnectionError" in text:
            return "niet bereikbaar (verbinding geweigerd of host onbekend)"
        if "timed out" in text.lower() or "timeout" in text.lower():
            return "geen antwoord (time-out)"
        return f"verbindingsfout ({type(exc).__name__})"
    if isinstance(exc, e.EWSError):
        return f"EWS-fout {type(exc).__name__}"
    return None
