"""Screening: is this a question for a contact person, or mail to skip?

Each rule answers yes (a Dutch reason naming the header or phrase that gave it away) or no
(None), and changes nothing. `RULES` is the order they are asked in; every rule is asked, the
first yes decides, and the verdict records which rules said yes and which no (as routing
does). Reasons name headers and fixed phrases, never addresses, subjects or text of the message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message as _HeaderBox

from flufl.bounce import all_failures

from bot.ingest.parse import ORIGINAL_MESSAGE_ID, RECEIVED_COUNT
from bot.message import Message, Screening

MAX_RECEIVED = 25  # more Received headers than this means the message is going round
# flufl.bounce logs a detector that trips over odd mail with a traceback; that is no verdict here
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

_DAEMONS = frozenset({"mailer-daemon", "mail-daemon", "mailer_daemon"})
_SYSTEM_LOCALS = _DAEMONS | {"postmaster", "mail-delivery", "maildelivery", "noreply", "no-reply", "bounce", "bounces",
                             "mdaemon", "mailadmin", "administrator"}
_FORWARD_PREFIX = re.compile(r"^\s*(?:(?:fwd?|fw|doorst|wg|tr|rv|enc)\s*:\s*)+", re.I)
_NOTIFICATION = re.compile(r'"notificationType"\s*:\s*"Bounce"|"bounceType"\s*:\s*"(?:Permanent|Transient)"')
_LIST_SENDER = re.compile(r"(?:^owner-|-owner$|-bounces$|-request$|^mailman$|^listserv$|^majordomo$|^sympa$|-admin$)")
_LIST_REFUSAL = re.compile(
    r"not a member|non-?member|nonmember|loop alert|mail loop|awaiting moderat|await(?:s|ing) moderator|"
    r"requires? approval|post(?:ing)? (?:by|from) non|rejected by the list|geen lid van", re.I)
_REPORT_WORDS = re.compile(
    r"deliver|bezorg|afgeleverd|undeliver|returned mail|failure|failed|zustell|配信|送信|エラー|不達", re.I)
_SMTP_STATUS = re.compile(r"\b[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b")  # 550 5.1.1
MAX_FLUFL_BYTES = 512 * 1024  # a report quotes the headers, not whole mails
_SYSTEM_NAME = re.compile(r"mail delivery|mail administrator|postmaster|mailer|delivery system", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|onbestelbaar|niet bezorgd|kan niet worden bezorgd"
    r"|delivery status notification|delivery failure|delivery has failed|mail delivery failed"
    r"|returned mail|mail system error|failure notice|unzustellbar|non remis"
    r"|mail could not be delivered|message could not be delivered|could not be delivered|not delivered"
    r"|delivery notification|returned to sender|nondeliverable|non-delivery"
    r"|no se pudo entregar|non consegnato|impossible de remettre)\b"
    r"|^\s*(?:配信不能|配信エラー|送信エラー|不達|メール配信失敗|未配達)",
    re.I,
)
_RECEIPT_SUBJECT = re.compile(r"^\s*(?:gelezen|niet gelezen|read|not read)\s*:", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatisch antwoord|automatisch bericht|automatic reply|auto[- ]?reply"
    r"|out of (?:the )?office|afwezigheidsmelding|afwezigheidsbericht|abwesenheitsnotiz"
    r"|automatische antwort|r[ée]ponse automatique)\b"
    r"|^\s*(?:afwezig|niet aanwezig|absent)(?:\s*:|\s*$|\s+(?:tot|t/m|tm|van|vanaf|until|from)\b)",
    re.I,
)
_AUTO_PRECEDENCE = frozenset({"auto_reply", "junk"})
_LIST_PRECEDENCE = frozenset({"list", "bulk"})
_MSG_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]{1,900}>)", re.I | re.M)
_IDS = re.compile(r"<[^<>\s]{1,250}>")
_KENMERK = re.compile(r"\[BvhK[^\]]{0,120}?\b([0-9a-f]{12})\]", re.I)  # as the forward's subject carries it


@dataclass(frozen=True, slots=True)
class ScreenContext:
    """What the rules know besides the message."""

    own_addresses: frozenset[str]  # the product's own sending addresses, lower case
    already_seen: Callable[[str], bool]  # Message-ID -> handled before?
    shared_address: str = ""  # the functional mailbox's own address, lower case
    contact_persons: frozenset[str] = frozenset()  # their addresses, lower case
    # a Message-ID of a question, of our forward of one or of a mail in its thread -> that
    # question's own Message-ID ("" when unknown); and the same for a kenmerk (triage id)
    known_question: Callable[[str], str] = lambda _message_id: ""
    question_with_kenmerk: Callable[[str], str] = lambda _kenmerk: ""


ScreenRule = Callable[[Message, ScreenContext], "str | None"]


def screen(message: Message, context: ScreenContext) -> Screening:
    """Every rule of `RULES` is asked; the first that says yes gives the verdict, none: `question`.

    `context.own_addresses` are the addresses the product itself sends from. Do not put the
    shared mailbox address there: contact persons answer from it, and those replies are questions.
    """
    answers = explain(message, context)
    hits = tuple(verdict for verdict, reason in answers if reason is not None)
    misses = tuple(verdict for verdict, reason in answers if reason is None)
    for verdict, reason in answers:
        if reason is not None:
            return Screening(verdict=verdict, reason=reason, refers_to=_refers_to(message, verdict, context),
                             hits=hits, misses=misses)
    return Screening(verdict="question", reason="geen enkele regel van toepassing", hits=hits, misses=misses)


def explain(message: Message, context: ScreenContext) -> tuple[tuple[str, str | None], ...]:
    """Every rule with its answer (reason, or None for no), for "why was this skipped?"."""
    return tuple((verdict, rule(message, context)) for verdict, rule in RULES)


# --- the rules -------------------------------------------------------------------------


def own_message(message: Message, context: ScreenContext) -> str | None:
    if "x-bvhk-triage" in message.headers:
        return "kopregel X-BvhK-Triage: door dit product verzonden"
    if _from_address(message) in context.own_addresses:
        return "afzender is het eigen verzendadres van dit product"
    return None


def loop(message: Message, context: ScreenContext) -> str | None:
    if "x-bvhk-triage-original" in message.headers:
        return "kopregel X-BvhK-Triage-Original: kwam eerder door dit product"
    if "bvhk-triage" in message.headers.get("x-loop", "").lower():
        return "kopregel X-Loop noemt bvhk-triage"
    received = int(message.headers.get(RECEIVED_COUNT, "0") or 0)
    if received > MAX_RECEIVED:
        return f"meer dan {MAX_RECEIVED} Received-kopregels: het bericht gaat rond"
    return None


def bounce(message: Message, context: ScreenContext) -> str | None:
    """A delivery report: our own signs first (report parts, daemon senders, the subjects of
    delivery systems in several languages, forwarded ones, list refusals, JSON notifications),
    then GNU Mailman's detectors (flufl.bounce) on the mails that look like one at all."""
    if _report_type(message) == "delivery-status":
        return "multipart/report met report-type=delivery-status"
    if _has_part(message, "message/delivery-status", "message/global-delivery-status"):
        return "bevat een deel message/delivery-status"
    local = _from_address(message).partition("@")[0]
    if local in _DAEMONS:
        return "afzender is MAILER-DAEMON"
    if message.forwarded_by and message.sender.lower().partition("@")[0] in _DAEMONS | {"postmaster"}:
        return "doorgestuurde foutmelding van MAILER-DAEMON of postmaster"
    head = _text_start(message)
    if _NOTIFICATION.search(head):
        return "JSON-melding van een afleverdienst (notificationType Bounce)"
    subject = _BOUNCE_SUBJECT.match(_FORWARD_PREFIX.sub("", message.subject))
    if subject is not None:
        phrase = subject.group(0).strip()
        if local == "postmaster":
            return f"afzender postmaster en onderwerp begint met '{phrase}'"
        if message.headers.get("return-path", "").strip() == "<>":
            return f"Return-Path <> en onderwerp begint met '{phrase}'"
        if "auto-submitted" in message.headers:
            return f"kopregel Auto-Submitted en onderwerp begint met '{phrase}'"
        if _SYSTEM_NAME.search(message.sender_name):
            return f"afzender is een afleversysteem en onderwerp begint met '{phrase}'"
        if _SMTP_STATUS.search(head):
            return f"SMTP-foutcode in de tekst en onderwerp begint met '{phrase}'"
    if _LIST_SENDER.search(local) and _LIST_REFUSAL.search(message.subject + "\n" + head):
        return "weigering van een mailinglijst (geen lid, lus of wachten op goedkeuring)"
    if _looks_like_a_report(message, local, head) and _flufl_finds_failures(message):
        return "GNU Mailman's detectoren (flufl.bounce) vinden adressen die niet bezorgd konden worden"
    return None


def _text_start(message: Message) -> str:
    return message.text[:4000]


def _looks_like_a_report(message: Message, local: str, head: str) -> bool:
    """Cheap signs, so that flufl.bounce reads only the mails that may be reports."""
    return bool(local in _SYSTEM_LOCALS or message.headers.get("return-path", "").strip() == "<>"
                or "auto-submitted" in message.headers or _SYSTEM_NAME.search(message.sender_name)
                or _has_part(message, "message/rfc822", "text/rfc822-headers")
                or _REPORT_WORDS.search(message.subject + "\n" + head))


def _flufl_finds_failures(message: Message) -> bool:
    if not message.raw:
        return False
    try:
        temporary, permanent = all_failures(message_from_bytes(message.raw[:MAX_FLUFL_BYTES]))
    except Exception:  # a detector tripping over odd mail is no verdict
        return False
    return bool(temporary or permanent)


def read_receipt(message: Message, context: ScreenContext) -> str | None:
    if _report_type(message) == "disposition-notification":
        return "multipart/report met report-type=disposition-notification"
    if _has_part(message, "message/disposition-notification", "message/global-disposition-notification"):
        return "bevat een deel message/disposition-notification"
    if _RECEIPT_SUBJECT.match(message.subject) and message.content_type == "multipart/report":
        return "leesbevestiging: onderwerp 'Gelezen:'/'Read:' in een multipart/report"
    return None


def feedback_report(message: Message, context: ScreenContext) -> str | None:
    if _report_type(message) == "feedback-report":
        return "multipart/report met report-type=feedback-report"
    if _has_part(message, "message/feedback-report"):
        return "bevat een deel message/feedback-report"
    return None


def auto_reply(message: Message, context: ScreenContext) -> str | None:
    headers = message.headers
    submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"kopregel Auto-Submitted: {submitted}"
    if "x-auto-response-suppress" in headers:
        return "kopregel X-Auto-Response-Suppress"
    precedence = headers.get("precedence", "").strip().lower()
    # Not "bulk": mailing lists and newsletters send it far more often than vacation
    # programs, which also send Auto-Submitted or a telling subject (see rule `bulk`).
    if precedence in _AUTO_PRECEDENCE:
        return f"kopregel Precedence: {precedence}"
    for name, label in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        if name in headers and headers[name].strip().lower() not in ("no", "false", "0"):
            return f"kopregel {label}"
    match = _AUTO_SUBJECT.match(message.subject)
    if match:
        return f"onderwerp begint met '{match.group(0).strip(' :')}'"
    return None


def answer(message: Message, context: ScreenContext) -> str | None:
    """A contact person's answer with the functional mailbox in To or Cc: it answers the
    question it refers to (reply detection records that), and is itself no question."""
    if not context.shared_address or _from_address(message) not in context.contact_persons:
        return None
    if context.shared_address not in {a.lower() for a in (*message.to, *message.cc)}:
        return None
    if _answered(message, context):
        return "antwoord van een contactpersoon met de functionele mailbox in kopie"
    return None


def follow_up(message: Message, context: ScreenContext) -> str | None:
    """A mail that belongs to a question already there (the asker's follow-up, a reminder,
    added information): it joins that question and goes to whoever has it."""
    if _answered(message, context):
        return "verwijst naar een vraag die er al is (In-Reply-To of References): een vervolg"
    if _thread_by_kenmerk(message, context):
        return "het onderwerp noemt het kenmerk van een vraag die er al is: een vervolg"
    return None


def bulk(message: Message, context: ScreenContext) -> str | None:
    if "list-id" in message.headers:
        return "kopregel List-Id: bericht van een verzendlijst"
    if "list-unsubscribe" in message.headers:
        return "kopregel List-Unsubscribe: bericht van een verzendlijst"
    precedence = message.headers.get("precedence", "").strip().lower()
    if precedence in _LIST_PRECEDENCE:
        return f"kopregel Precedence: {precedence}"
    return None


def duplicate(message: Message, context: ScreenContext) -> str | None:
    if context.already_seen(message.message_id):
        return "Message-ID is al eerder verwerkt"
    return None


RULES: tuple[tuple[str, ScreenRule], ...] = (
    ("own_message", own_message),
    ("loop", loop),
    ("bounce", bounce),
    ("read_receipt", read_receipt),
    ("feedback_report", feedback_report),
    ("auto_reply", auto_reply),
    ("answer", answer),
    ("follow_up", follow_up),
    ("bulk", bulk),
    ("duplicate", duplicate),
)


# --- helpers ---------------------------------------------------------------------------


def _from_address(message: Message) -> str:
    """The address in the From header: the forwarder when the message is a forward."""
    return (message.forwarded_by or message.sender).lower()


def _report_type(message: Message) -> str:
    if message.content_type != "multipart/report":
        return ""
    box = _HeaderBox()
    box["content-type"] = message.headers.get("content-type", "")
    value = box.get_param("report-type") or ""
    return str(value).strip().lower() if isinstance(value, str) else ""


def _has_part(message: Message, *content_types: str) -> bool:
    return any(a.content_type in content_types for a in message.attachments)


def replied_to(message: Message) -> list[str]:
    """The Message-IDs a message answers, most direct first: In-Reply-To, then References
    from the newest to the oldest."""
    seen: list[str] = []
    for message_id in (*_IDS.findall(message.in_reply_to), *reversed(message.references)):
        if message_id not in seen and message_id != message.message_id:
            seen.append(message_id)
    return seen


def _answered(message: Message, context: ScreenContext) -> str:
    """The Message-ID of the known question the message replies to, or ""."""
    return next((found for m in replied_to(message) if (found := context.known_question(m))), "")


def _thread_by_kenmerk(message: Message, context: ScreenContext) -> str:
    match = _KENMERK.search(message.subject)
    return context.question_with_kenmerk(match.group(1).lower()) if match else ""


def _refers_to(message: Message, verdict: str, context: ScreenContext) -> str:
    """For a bounce or receipt, the Message-ID of the message it is about; for an automatic
    reply, the message it answers; for a contact person's answer, the question (or forward)."""
    if verdict == "answer":
        return _answered(message, context)
    if verdict == "follow_up":
        return _answered(message, context) or _thread_by_kenmerk(message, context)
    if verdict in ("bounce", "read_receipt", "feedback_report"):
        found = message.headers.get(ORIGINAL_MESSAGE_ID, "")
        if not found:
            match = _MSG_ID.search(message.text[:200_000])
            found = match.group(1) if match else ""
        return found
    if verdict == "auto_reply":
        return message.in_reply_to
    return ""
