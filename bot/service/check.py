"""`check`: does everything load, and (without --offline) connect? One line per part.

Lines begin with `ok`, `let op` (works, but look), `FOUT` (does not work) or `--` (not
looked at); a FOUT makes `check` exit 1. The model is loaded as the worker would, every
secret the configuration names must be set, credentials must not travel in clear, and the
audit log must be unbroken.
"""

from __future__ import annotations

import importlib.util
import os

import rules
from bot.ingest.mailboxes import MailboxError, clear_text_login, open_mailbox
from bot.outgoing import DeliveryError, open_sender
from bot.service.heartbeat import check_lines
from bot.settings import ConfigError, Settings
from classifiers import ModelError, ModelStore, deidentify
from storage.audit import verify as verify_audit
from storage.db import open_database, unit_of_work


def privacy_lines(settings: Settings, *, offline: bool = False) -> list[str]:
    """How names are found, and whether the sender hash has its key. Deduce is loaded as a
    worker loads it (some seconds and 1.2 GB), except --offline: then only found installed."""
    privacy = settings.privacy
    if privacy.deidentify == "deduce":
        try:
            if not offline:
                deidentify.load()
            elif importlib.util.find_spec("deduce") is None:
                raise ImportError("deduce")
            state = "geïnstalleerd (niet geladen: --offline)" if offline else "geladen"
            lines = [f"ok    namen zonder aanwijzing: deduce {state}"]
        except ImportError:
            lines = ["FOUT  namen zonder aanwijzing: deduce is niet geïnstalleerd (pip install deduce), "
                     "of zet [privacy] deidentify = \"patterns\""]
    else:
        lines = ["let op [privacy] deidentify = \"patterns\": namen zonder aanwijzing (\"het gaat om Amira\") "
                 "worden niet gevonden en kunnen worden opgeslagen"]
    if not os.environ.get(privacy.sender_key_env):
        lines.append(f"let op omgevingsvariabele {privacy.sender_key_env} is niet gezet: de afzenderhash heeft "
                     "geen sleutel (wie het adres kent, kan hem narekenen)")
    web = settings.web
    if not os.environ.get(web.secret_env):
        lines.append(f"let op omgevingsvariabele {web.secret_env} is niet gezet: de webconsole tekent sessies met een "
                     "sleutel per start (iedereen wordt bij een herstart afgemeld)")
    if web.public_url and not web.secure:
        lines.append(f"let op [web] public_url {web.public_url} is geen https: sessiecookies gaan onversleuteld over het net")
    return lines


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
        if version:  # loaded and checked as the worker would (version, labels, checksum), and the
            # estimators training compares a candidate with: online loaded whole, offline their checksum
            store.load_predictor(version, expected_labels={"theme": ruleset.theme_keys()})
            if offline:
                store.check_model_file(version)
            else:
                store.load(version, expected_labels={"theme": ruleset.theme_keys()})
        lines.append(f"ok    model {version} geladen" if version else "let op nog geen model: de eerste poll traint er een")
    except ModelError as exc:
        lines.append(f"FOUT  model: {exc}")
        ok = False
    privacy = privacy_lines(settings, offline=offline)
    lines += privacy
    ok = ok and not any(line.startswith("FOUT") for line in privacy)
    for where, key, variable in settings.missing_secrets():
        lines.append(f"FOUT  {where}: omgevingsvariabele {variable} (uit '{key}') is niet gezet")
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
        except (MailboxError, ConfigError) as exc:
            if not isinstance(exc, ConfigError):  # an unset secret is named above already
                lines.append(f"FOUT  mailbox {m.name}: {exc}")
            ok = False
    try:
        lines.append(f"ok    aflevering: {open_sender(settings.delivery, mailboxes=settings.mailboxes).check()}")
    except (DeliveryError, ConfigError) as exc:
        if not isinstance(exc, ConfigError):
            lines.append(f"FOUT  aflevering: {exc}")
        ok = False
    return lines, ok
