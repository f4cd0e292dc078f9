"""`init` (a starter configuration to edit) and `check` (does everything load and connect?)."""

from __future__ import annotations

import shutil
from pathlib import Path

import rules
from bot.ingest.mailboxes import MailboxError, clear_text_login, open_mailbox
from bot.outgoing import DeliveryError, open_sender
from bot.settings import DEFAULT_RULES, PACKAGE_DIR, Settings
from classifiers import ModelError, ModelStore

EXAMPLE_CONFIG = PACKAGE_DIR.parent / "config.example.toml"
SAMPLE_CONTACTS = PACKAGE_DIR / "sample" / "contacts.csv"


def write_starter(directory: Path) -> list[Path]:
    """Write config.toml, a rules/ folder and contacts.csv; never overwrite an existing file."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        directory / "config.toml": EXAMPLE_CONFIG,
        directory / "contacts.csv": SAMPLE_CONTACTS,
    }
    for source in sorted(DEFAULT_RULES.iterdir()):
        if source.suffix in {".toml", ".csv"} or source.name.endswith(".LICENSE"):
            targets[directory / "rules" / source.name] = source
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        from bot.settings import ConfigError

        raise ConfigError(f"{existing[0]}: bestaat al; init overschrijft niets (kies een andere map)")
    for target, source in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return list(targets)


def check_all(settings: Settings, *, offline: bool) -> tuple[list[str], bool]:
    """One line per part: what works and what does not. Returns the lines and whether all is well."""
    lines = [f"ok    configuratie {settings.source}"]
    ok = True
    ruleset = rules.load_ruleset(settings.routing.rules)
    lines.append(f"ok    regels {settings.routing.rules}: {ruleset.describe()}")
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    lines.append(f"ok    contactpersonen {settings.routing.contacts}: {len(contacts)}")
    for warning in ruleset.coverage_warnings(contacts):
        lines.append(f"let op {warning}")
    store = ModelStore(settings.classifier.models)
    try:
        version = store.active_version()
        if version:  # loaded and checked as the worker would (version, labels, checksum, types)
            store.load(version, expected_labels={"theme": ruleset.theme_keys()})
        lines.append(f"ok    model {version} geladen" if version else "let op nog geen model: de eerste poll traint er een")
    except ModelError as exc:
        lines.append(f"FOUT  model: {exc}")
        ok = False
    for m in settings.mailboxes:
        reason = clear_text_login(m) if m.kind != "maildir" else None
        if reason and m.allow_insecure:
            lines.append(f"let op mailbox {m.name}: {reason}; toegestaan door allow_insecure = true")
        elif reason and offline:  # online, opening the mailbox refuses it with the same reason
            lines.append(f"FOUT  mailbox {m.name}: geweigerd: {reason} (of zet allow_insecure = true)")
            ok = False
    if offline:
        for m in settings.mailboxes:
            lines.append(f"--    mailbox {m.name} ({m.kind}): niet verbonden (--offline)")
        lines.append(f"--    aflevering {settings.delivery.kind}: niet verbonden (--offline)")
        return lines, ok
    try:
        from bot.service.heartbeat import check_lines
        from storage.audit import verify as verify_audit
        from storage.db import open_database, unit_of_work

        engine = open_database(settings.storage.url)
        lines.append("ok    database bereikbaar en bijgewerkt")
        with unit_of_work(engine) as session:
            verdict = verify_audit(session)
        lines.append(verdict.line())
        ok = ok and verdict.ok
        try:
            lines += check_lines(engine, heartbeat_seconds=settings.schedule.heartbeat_seconds)
        finally:
            engine.dispose()
    except Exception as exc:  # the driver's own error class differs per database
        lines.append(f"FOUT  database: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        ok = False
    for m in settings.mailboxes:
        try:
            mailbox = open_mailbox(m)
            try:
                lines.append(f"ok    mailbox {m.name}: {mailbox.check()}")
            finally:
                mailbox.close()
        except MailboxError as exc:
            lines.append(f"FOUT  mailbox {m.name}: {exc}")
            ok = False
    try:
        lines.append(f"ok    aflevering: {open_sender(settings.delivery, mailboxes=settings.mailboxes).check()}")
    except DeliveryError as exc:
        lines.append(f"FOUT  aflevering: {exc}")
        ok = False
    return lines, ok
