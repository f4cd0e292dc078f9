"""`classify`: triage one .eml with the stages of the pipeline; nothing is stored or sent."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from pathlib import Path

import rules
from bot.ingest.parse import ParseError
from bot.settings import ConfigError, Settings
from bot.triage.pipeline import Context, Directory, triage_message
from bot.triage.training import ensure_model
from storage import repo
from storage.db import open_existing, unit_of_work


def classify_file(settings: Settings, path: str, *, mailbox: str | None) -> dict:
    """Triage one .eml with the stages of the pipeline; nothing is stored or sent."""
    if path == "-":
        raw = sys.stdin.buffer.read()
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror}") from None
    config = settings.mailbox(mailbox) if mailbox else (settings.mailboxes[0] if settings.mailboxes else None)
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    directory, seen = Directory(contacts=contacts), (lambda _mid: False)
    engine = open_existing(settings.storage.url)
    if engine is not None:
        with unit_of_work(engine) as session:
            directory.open_questions = repo.open_counts(session)
            directory.absent = repo.absent_on(session, day=date.today())

        def seen(message_id: str) -> bool:
            with unit_of_work(engine) as session:
                return repo.message_id_seen(session, message_id=message_id)

    ctx = Context(
        mailbox=config.name if config else "classify",
        mailbox_organisation=config.organisation if config else "",
        ruleset=ruleset,
        model=ensure_model(settings, ruleset=ruleset, engine=None, persist=False),
        directory=directory,
        min_confidence=settings.classifier.min_confidence,
        own_addresses=settings.own_addresses,
        already_seen=seen,
        today=datetime.now(timezone.utc).date(),
    )
    try:
        triage = triage_message(raw, source_id=Path(path).name, ctx=ctx)
    except ParseError as exc:
        return {"screen": "quarantine", "reason": str(exc), "theme": None, "organisation": None,
                "region": None, "explanation": [], "route": None}
    return triage_document(triage)


def triage_document(triage) -> dict:
    cls, route = triage.classification, triage.route
    none = {"label": None, "confidence": 0.0}
    return {
        "screen": triage.screening.verdict,
        "screen_reason": triage.screening.reason,
        "subject": triage.message.subject,
        "theme": cls.theme.as_dict() if cls else none,
        "organisation": cls.organisation.as_dict() if cls else none,
        "asking_organisation": cls.asking_organisation.as_dict() if cls else none,
        "region": triage.region.as_dict() if triage.region else none,
        "region_reason": triage.region_reason,
        "explanation": list(cls.explanation) if cls else [],
        "model_version": cls.model_version if cls else None,
        "route": route.as_dict() | {"review": route.review, "copy_to": list(route.copy_to),
                                     "priority": route.priority, "rules_hit": list(route.hits),
                                     "rules_missed": list(route.misses)} if route else None,
    }
