"""The `graph` kind: Exchange Online through Microsoft Graph (HTTPS with httpx, msal token).

Exchange Online blocks EWS from 1 October 2026 and ends it on 1 April 2027; Graph is the
way there. The app signs in with client credentials (application permissions Mail.Read,
or Mail.ReadWrite for marks and Mail.Send for delivery, best narrowed by an application
access policy to the shared mailboxes). All ids are immutable (`Prefer: IdType=
"ImmutableId"`), so an item keeps its id when someone moves it.

Reading is a per-folder delta query for created messages only (`changeType=created`),
selecting the time received and the Message-ID; the MIME of each new message is then read
with `$value`. The cursor is a small JSON object: `link` is the page the item came from (a
crash reads that page again) or, for the last item of a page, the next link or the delta
link; `received` the time the last handed-out message arrived. An expired delta link
(410, or sync state not found) starts a fresh round that hands out only what arrived from
two days before `received` on; the worker recognises those items by their id and skips
them. 429 and 503 are sat out as long as Retry-After asks, up to `max_wait_seconds`.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import msal
import requests

from bot.ingest.mailboxes.base import (
    AutomaticReply,
    Fetched,
    MailboxError,
    Marked,
    header_block,
    requests_verify,
    tls_context,
)

log = logging.getLogger(__name__)

DELTA_SECONDS = 30.0  # `run` asks the delta link this often, besides the scheduled poll
PAGE_SIZE = 50
RESYNC_MARGIN = timedelta(days=2)
SCOPE = ["https://graph.microsoft.com/.default"]
TIMEOUT = 30.0
WELL_KNOWN = {"inbox", "sentitems", "drafts", "deleteditems", "junkemail", "archive", "msgfolderroot"}
# MAPI properties a reply carries: PidTagInReplyToId and PidTagInternetReferences
IN_REPLY_TO, REFERENCES = "String 0x1042", "String 0x1039"


@dataclass(frozen=True, slots=True)
class GraphCursor:
    link: str = ""
    received: datetime | None = None

    def encode(self) -> str:
        return json.dumps({"link": self.link, "received": self.received.isoformat() if self.received else None})

    @classmethod
    def decode(cls, text: str) -> "GraphCursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
            received = datetime.fromisoformat(data["received"]) if data.get("received") else None
            return cls(link=data.get("link") or "", received=received)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise MailboxError("opgeslagen Graph-cursor is onleesbaar") from None


class _Resync(Exception):
    """The delta link expired (410) or its sync state is gone: start a new round."""


_APPS: dict[tuple, msal.ConfidentialClientApplication] = {}
_APPS_LOCK = threading.Lock()


class GraphMailbox:
    can_mark = True

    def __init__(self, config, secret: str) -> None:
        self.name = config.name
        self.config = config
        self._secret = secret
        self.base = config.base_url.rstrip("/")
        self.where = f"Graph {self.base}"
        self._user = f"{self.base}/users/{quote(config.address)}"
        self._folders: dict[str, str] = {}
        self._http: httpx.Client | None = None
        self._token: str | None = None

    @classmethod
    def from_config(cls, config) -> "GraphMailbox":
        from bot.settings import secret

        return cls(config, secret(config.client_secret_env, key="client_secret_env"))

    # --- the interface ---------------------------------------------------------------------
    def fetch(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.config.folder, cursor, sent=False)

    def sent_items(self, cursor: str) -> Iterator[Fetched]:
        return self._read(self.config.sent_folder, cursor, sent=True)

    def mark(self, source_id: str, labels: Sequence[str]) -> None:
        url = f"{self._user}/messages/{quote(source_id, safe='')}"
        response = self._request("GET", url, params={"$select": "categories"}, missing="bericht")
        present = list(response.json().get("categories") or [])
        wanted = present + [label for label in labels if label not in present]
        if wanted != present:  # only this property: not read, not flagged
            self._request("PATCH", url, json={"categories": wanted})
        if self.config.move_to:
            self._request("POST", f"{url}/move", json={"destinationId": self._folder_id(self.config.move_to)})

    def wait_for_new(self, stop: threading.Event, *, seconds: float = DELTA_SECONDS) -> bool:
        """Graph's change notifications need an address Microsoft can reach, which on-premises
        set-ups often lack: instead the delta link is asked every `seconds` (True), which costs
        one small request. False when `stop` is set."""
        return not stop.wait(seconds)

    def check(self) -> str:
        parts = [f"{self.where}: {self.config.address} bereikbaar"]
        for name in (self.config.folder, self.config.sent_folder):
            folder = self._request("GET", f"{self._user}/mailFolders/{self._folder_id(name)}",
                                   params={"$select": "displayName,totalItemCount"}, missing=f"map '{name}'").json()
            parts.append(f"{name} {folder.get('totalItemCount', '?')} items")
        if self.config.move_to:
            self._folder_id(self.config.move_to)
        return "; ".join(parts)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # --- what kind = mailbox delivery and reply detection use --------------------------------
    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        """Send stored MIME as the shared address, a copy in Sent Items; never twice."""
        found = self._request("GET", f"{self._user}/mailFolders/sentitems/messages",
                              params={"$filter": f"internetMessageId eq '{_odata(message_id)}'", "$select": "id"})
        if found.json().get("value"):
            return  # sent before the outcome was stored: recognised by its Message-ID
        self._request("POST", f"{self._user}/sendMail", content=base64.b64encode(payload),
                      headers={"Content-Type": "text/plain"})

    def changed_marks(self, cursor: str) -> tuple[list[Marked], str]:
        """Inbox messages created or updated since `cursor` (a delta link of its own, selecting
        only `categories`), with their categories now (messages without any are left out), and
        the new delta link. An expired link starts a new round; what was recorded is recognised."""
        link, found = cursor, {}
        while True:
            if not link:
                folder = self._folder_id(self.config.folder)
                link = f"{self._user}/mailFolders/{folder}/messages/delta?$select=categories"
            try:
                page = self._request("GET", link, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"},
                                     delta=True, missing=f"map '{self.config.folder}'").json()
            except _Resync:
                log.info("%s: delta link of the marks expired; reading all marks again", self.name)
                link, found = "", {}
                continue
            for message in page.get("value", []):
                if "@removed" not in message:
                    found[message["id"]] = tuple(message.get("categories") or ())
            link = page.get("@odata.nextLink") or ""
            if not link:
                marked = [Marked(source_id, marks) for source_id, marks in found.items() if marks]
                return marked, page.get("@odata.deltaLink") or cursor

    def automatic_reply(self, address: str) -> AutomaticReply:
        """A contact person's automatic-reply setting (`mailboxSettings/automaticRepliesSetting`).
        Needs the application permission MailboxSettings.Read, and an application access policy
        that lets the app reach the contact persons' mailboxes."""
        url = f"{self.base}/users/{quote(address)}/mailboxSettings/automaticRepliesSetting"
        setting = self._request("GET", url, missing="mailbox van de contactpersoon").json()
        status = {"alwaysEnabled": "enabled", "scheduled": "scheduled"}.get(setting.get("status"), "disabled")
        return AutomaticReply(status, _zoned(setting.get("scheduledStartDateTime")),
                              _zoned(setting.get("scheduledEndDateTime")))

    def message_ids_in_conversation(self, conversation_id: str) -> list[str]:
        response = self._request("GET", f"{self._user}/mailFolders/{self._folder_id(self.config.folder)}/messages",
                                 params={"$filter": f"conversationId eq '{_odata(conversation_id)}'",
                                         "$select": "internetMessageId"})
        return [m["internetMessageId"] for m in response.json().get("value", []) if m.get("internetMessageId")]

    # --- reading ---------------------------------------------------------------------------
    def _read(self, folder: str, cursor_text: str, *, sent: bool) -> Iterator[Fetched]:
        cursor = GraphCursor.decode(cursor_text)
        link, received = cursor.link, cursor.received
        since = None if sent or link else self.config.since
        floor = datetime(since.year, since.month, since.day, tzinfo=timezone.utc) if since else None
        when = "sentDateTime" if sent else "receivedDateTime"
        while True:
            page_link = link or self._first_link(folder, sent=sent, floor=floor)
            try:
                page = self._request("GET", page_link, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"},
                                     delta=True, missing=f"map '{folder}'").json()
            except _Resync:
                log.info("%s: delta link expired; a new round with de-duplication", self.name)
                link, floor = "", (received - RESYNC_MARGIN) if received else floor
                continue
            next_link = page.get("@odata.nextLink") or page.get("@odata.deltaLink") or ""
            messages = [m for m in page.get("value", []) if "@removed" not in m]
            messages = [m for m in messages if floor is None or _time(m.get(when)) is None or _time(m[when]) >= floor]
            for index, message in enumerate(messages):
                raw, conversation = self._content(message, sent=sent)
                received = _time(message.get(when)) or received
                position = GraphCursor(next_link if index == len(messages) - 1 else page_link, received)
                yield Fetched(source_id=message["id"], raw=raw, cursor=position.encode(),
                              conversation_id=conversation)
            if "@odata.nextLink" not in page:
                return
            link = next_link

    def _first_link(self, folder: str, *, sent: bool, floor: datetime | None) -> str:
        fields = "sentDateTime,internetMessageId,conversationId" if sent else "receivedDateTime,internetMessageId"
        params = {"changeType": "created", "$select": fields}
        if floor is not None and not sent:
            params["$filter"] = f"receivedDateTime ge {floor:%Y-%m-%dT%H:%M:%SZ}"
        query = "&".join(f"{k}={quote(v, safe='$,')}" for k, v in params.items())
        return f"{self._user}/mailFolders/{self._folder_id(folder)}/messages/delta?{query}"

    def _content(self, message: dict, *, sent: bool) -> tuple[bytes, str]:
        url = f"{self._user}/messages/{quote(message['id'], safe='')}"
        if not sent:
            return self._request("GET", f"{url}/$value", missing="bericht").content, ""
        expand = f"singleValueExtendedProperties($filter=id eq '{IN_REPLY_TO}' or id eq '{REFERENCES}')"
        full = self._request("GET", url, params={"$select": "internetMessageId,conversationId,sentDateTime",
                                                 "$expand": expand}, missing="bericht").json()
        props = {p["id"].lower(): p.get("value") or "" for p in full.get("singleValueExtendedProperties") or []}
        raw = header_block(message_id=full.get("internetMessageId") or "",
                           in_reply_to=props.get(IN_REPLY_TO.lower(), ""),
                           references=props.get(REFERENCES.lower(), ""), date=_time(full.get("sentDateTime")))
        return raw, full.get("conversationId") or ""

    def _folder_id(self, path: str) -> str:
        """The id of a folder path ("inbox", "Inbox/BvhK"): well-known names need no lookup."""
        if path in self._folders:
            return self._folders[path]
        parent = None
        for index, part in enumerate(path.strip("/").split("/")):
            if index == 0 and part.lower() in WELL_KNOWN:
                parent = part.lower()
                continue
            where = f"{self._user}/mailFolders/{parent}/childFolders" if parent else f"{self._user}/mailFolders"
            found = self._request("GET", where, params={"$filter": f"displayName eq '{_odata(part)}'",
                                                        "$select": "id"}, missing=f"map '{path}'").json()
            if not found.get("value"):
                raise MailboxError(f"{self.where}: map '{path}' bestaat niet")
            parent = found["value"][0]["id"]
        self._folders[path] = parent or "msgfolderroot"
        return self._folders[path]

    # --- HTTP, token, throttling and errors ---------------------------------------------------
    def _request(self, method: str, url: str, *, delta: bool = False, missing: str = "", **kwargs) -> httpx.Response:
        if not url.startswith(self.base + "/"):
            raise MailboxError(f"{self.where}: link naar een andere host geweigerd")
        waited, retried_token = 0.0, False
        headers = {"Prefer": 'IdType="ImmutableId"'}
        extra = kwargs.pop("headers", {})
        while True:
            prefer = ", ".join(filter(None, [headers["Prefer"], extra.get("Prefer")]))
            all_headers = extra | {"Prefer": prefer, "Authorization": f"Bearer {self._access_token()}"}
            try:
                response = self._client().request(method, url, headers=all_headers, **kwargs)
            except httpx.HTTPError as exc:
                raise MailboxError(f"{self.where}: {_network(exc)}") from None
            if response.status_code < 400:
                return response
            code = _error_code(response)
            if delta and (response.status_code == 410 or code.lower() in ("syncstatenotfound", "syncstateinvalid",
                                                                         "resyncrequired")):
                raise _Resync()
            if response.status_code == 401 and not retried_token:
                self._token, retried_token = None, True  # expired: one new token
                _forget_token(self)
                continue
            if response.status_code in (429, 503, 504):
                pause = _retry_after(response, attempt=waited)
                if waited + pause > self.config.max_wait_seconds:
                    raise MailboxError(f"{self.where}: Graph beperkt het verkeer ({response.status_code}) langer "
                                       "dan max_wait_seconds; volgende poll opnieuw")
                log.info("%s: Graph asks to wait %.1fs (%s)", self.name, pause, response.status_code)
                time.sleep(pause)
                waited += pause
                continue
            raise MailboxError(f"{self.where}: {_refusal(response.status_code, code, missing)}")

    def _client(self) -> httpx.Client:
        if self._http is None:
            try:
                verify = tls_context(verify=True, ca_file=self.config.ca_file)
            except ValueError as exc:
                raise MailboxError(str(exc)) from None
            self._http = httpx.Client(timeout=TIMEOUT, verify=verify, follow_redirects=False)
        return self._http

    def _access_token(self) -> str:
        if self._token:
            return self._token
        try:
            result = self._app().acquire_token_for_client(scopes=SCOPE)
        except (requests.RequestException, ValueError, OSError) as exc:
            raise MailboxError(f"{self.where}: token niet te krijgen bij {self.config.authority} "
                               f"({_network(exc)})") from None
        if "access_token" not in result:
            raise MailboxError(f"{self.where}: token geweigerd door de authority ({result.get('error', 'onbekend')})")
        self._token = result["access_token"]
        return self._token

    def _app(self) -> msal.ConfidentialClientApplication:
        config = self.config
        key = (config.authority, config.tenant_id, config.client_id, self._secret, config.ca_file)
        with _APPS_LOCK:
            if key not in _APPS:  # one app per mailbox: msal keeps the token until it expires
                try:
                    verify = requests_verify(verify=True, ca_file=config.ca_file)
                except ValueError as exc:
                    raise MailboxError(str(exc)) from None
                session = requests.Session()  # an explicit verify wins over REQUESTS_CA_BUNDLE
                session.request = functools.partial(session.request, verify=verify, timeout=TIMEOUT)
                _APPS[key] = msal.ConfidentialClientApplication(
                    config.client_id, client_credential=self._secret, instance_discovery=False,
                    authority=f"{config.authority.rstrip('/')}/{config.tenant_id}", http_client=session)
            return _APPS[key]


def _forget_token(mailbox: GraphMailbox) -> None:
    config = mailbox.config
    key = (config.authority, config.tenant_id, config.client_id, mailbox._secret, config.ca_file)
    with _APPS_LOCK:
        _APPS.pop(key, None)


def _odata(value: str) -> str:
    return value.replace("'", "''")


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _zoned(value: dict | None) -> datetime | None:
    """A Graph dateTimeTimeZone ({"dateTime": ..., "timeZone": "UTC"}) as an aware datetime;
    a Windows zone name is translated, an unknown zone taken as UTC."""
    when = _time((value or {}).get("dateTime"))
    if when is None or when.tzinfo is not None:
        return when
    name = (value or {}).get("timeZone") or "UTC"
    try:
        from zoneinfo import ZoneInfo

        from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

        return when.replace(tzinfo=ZoneInfo(MS_TIMEZONE_TO_IANA_MAP.get(name, name)))
    except (ValueError, KeyError, ImportError):
        return when.replace(tzinfo=timezone.utc)


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", {}).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _retry_after(response: httpx.Response, *, attempt: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return min(2.0 * (attempt + 1), 30.0)  # no hint: back off a little more each time


def _refusal(status: int, code: str, missing: str) -> str:
    if status == 401:
        return "token niet geaccepteerd (401); controleer de app-registratie"
    if status == 403:
        return (f"geen toegang tot de gedeelde mailbox (403 {code}); controleer de applicatierechten "
                "(Mail.Read, Mail.ReadWrite, Mail.Send) en de application access policy")
    if status == 404:
        if code in ("MailboxNotEnabledForRESTAPI", "ResourceNotFound") or not missing:
            return f"mailbox niet gevonden ({code or 404})"
        return f"{missing} bestaat niet"
    return f"Graph antwoordt {status} {code}".strip()


def _network(exc: BaseException) -> str:
    text = f"{exc} {exc.__cause__ or ''} {exc.__context__ or ''}"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "TLS-certificaat niet vertrouwd; zie ca_file"
    if "SSL" in text or "TLS" in text:
        return "TLS-fout; klopt het adres (https) en de poort?"
    if isinstance(exc, (httpx.TimeoutException, requests.Timeout)) or "timed out" in text:
        return "geen antwoord (time-out)"
    if isinstance(exc, (httpx.ConnectError, requests.ConnectionError)) or "Connection refused" in text:
        return "niet bereikbaar (verbinding geweigerd of host onbekend)"
    return f"verbindingsfout ({type(exc).__name__})"
