"""`classify`: triage one .eml with the stages of the pipeline; nothing is stored or sent."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import rules
from bot.ingest.parse import ParseError
from bot.settings import ConfigError, Settings
from bot.triage.context import open_context
from bot.triage.pipeline import triage_message
from bot.triage.active import active_model
from storage.db import open_existing


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
    model = active_model(settings, ruleset=ruleset)
    if model is None:  # none trained yet: one fitted now, not stored (training is imported only then)
        from bot.triage.training import fit

        model = fit(settings, ruleset=ruleset, engine=None, data=None)
    ctx = open_context(settings, config=config, ruleset=ruleset, contacts=contacts, model=model,
                       engine=open_existing(settings.storage.url), today=datetime.now(timezone.utc).date())
    try:
        triage = triage_message(raw, source_id=Path(path).name, ctx=ctx)
    except ParseError as exc:
        return {"screen": "quarantine", "reason": str(exc), "theme": None, "organisation": None,
                "region": None, "explanation": [], "route": None}
    return triage_document(triage)


def triage_document(triage) -> dict:
    """What `classify --json` shows: every decision of the pipeline with its why."""
    screening, cls, route = triage.screening, triage.classification, triage.route
    none = {"label": None, "confidence": 0.0}
    return {
        "screen": screening.verdict,
        "screen_reason": screening.reason,
        "screen_hits": list(screening.hits),
        "screen_misses": list(screening.misses),
        "subject": triage.message.subject,
        "theme": cls.theme.as_dict() if cls else none,
        "organisation": cls.organisation.as_dict() if cls else none,
        "organisation_source": cls.organisation_source if cls else None,
        "asking_organisation": cls.asking_organisation.as_dict() if cls else none,
        "region": triage.region.as_dict() if triage.region else none,
        "region_reason": triage.region_reason,
        "explanation": list(cls.explanation) if cls else [],
        "model_version": cls.model_version if cls else None,
        "route": route.as_dict() | {"review": route.review, "copy_to": list(route.copy_to),
                                     "priority": route.priority, "rules_hit": list(route.hits),
                                     "rules_missed": list(route.misses), "organisation": route.organisation,
                                     "region": route.region,
                                     "due_on": route.due_on.isoformat() if route.due_on else None,
                                     "due_rule": route.due_rule} if route else None,
    }
