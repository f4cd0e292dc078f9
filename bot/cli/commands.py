"""The command line: `bvhk-triage [--config PATH] COMMAND` (also `python -m bot`).

Exit status: 0 done; 1 the work failed (a server unreachable, a message not delivered);
2 usage or configuration error. Errors are one line on stderr naming the file, key or
value at fault; a traceback only with --debug. `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path

import click

import rules
from bot.ingest.mailboxes import MailboxError
from bot.outgoing import DeliveryError
from bot.outgoing.queue import send_now
from bot.errors import ActionError
from bot.settings import ConfigError, Settings, load_settings
from classifiers import DataError, ModelError, deidentify
from storage.db import open_database, unit_of_work

PRIVATE_UMASK = 0o077
CONFIG_HELP = "Configuratiebestand (standaard: $BVHK_TRIAGE_CONFIG, anders ./config.toml)."


class Failed(Exception):
    """The work failed (exit 1)."""


def handle_errors(func):
    """One clear line on stderr and the right exit status, instead of a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = ctx.find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except (ConfigError, rules.RulesError, DataError, ModelError, ActionError) as exc:
            if debug:
                raise
            click.echo(f"bvhk-triage: {exc}", err=True)
            sys.exit(2)
        except (Failed, MailboxError, DeliveryError) as exc:
            if debug:
                raise
            click.echo(f"bvhk-triage: {exc}", err=True)
            sys.exit(1)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:  # never a traceback for a user, unless --debug
            if debug:
                raise
            click.echo(f"bvhk-triage: interne fout ({type(exc).__name__}); herhaal met --debug voor details", err=True)
            sys.exit(1)

    return wrapper


def settings_from(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    if "settings" not in root.meta:
        path = root.params.get("config") or os.environ.get("BVHK_TRIAGE_CONFIG") or "config.toml"
        root.meta["settings"] = settings = load_settings(Path(path))
        deidentify.configure(settings.privacy.deidentify)
    return root.meta["settings"]


def emit_json(document) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--debug", is_flag=True, help="Toon bij een fout de volledige traceback.")
@click.option("--log-json", is_flag=True, help="Logregels als JSON (voor een logverzamelaar).")
@click.version_option(package_name="bvhk-triage")
def main(config, debug, log_json):
    """Triage van de functionele mailboxen "Belang van het Kind" (IND, DT&V, RvdK).

    Leest nieuwe vragen, bepaalt thema, organisatie en regio, stuurt elke vraag door
    naar de juiste contactpersoon en houdt de backlog bij tot de vraag beantwoord is.

    \b
    Eerste keer:
      bvhk-triage demo              alles proberen op de voorbeeldmailbox
      bvhk-triage init mijn-config  startconfiguratie, regels en contactpersonen
      bvhk-triage check             configuratie en verbindingen controleren
      bvhk-triage run               de worker starten
    """
    from bot.service.logs import setup_logging

    setup_logging(json_lines=log_json, debug=debug)
    # What the product writes (database, outbox, models, digests, reports) concerns children:
    # files 0600 and folders 0700, whatever the umask of the shell or service it runs from.
    previous = os.umask(PRIVATE_UMASK)
    click.get_current_context().call_on_close(lambda: os.umask(previous))


# -- demo, init, check --------------------------------------------------------------------
@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"),
              show_default=True, help="Werkmap voor database, outbox, model, digest en rapport.")
@click.option("--json", "as_json", is_flag=True, help="Samenvatting als JSON.")
@click.option("--serve", is_flag=True, help="Daarna de webconsole starten, met een account per rol "
                                            "(wachtwoorden worden één keer getoond).")
@click.option("--port", type=int, default=8080, show_default=True, help="Poort van de webconsole (met --serve).")
@handle_errors
def demo(out: Path, as_json: bool, serve: bool, port: int):
    """Volledige run op de meegeleverde voorbeeldmailbox (SQLite, lokale outbox).

    Veilig te herhalen: een tweede run stuurt niets opnieuw door. Met --serve daarna de
    webconsole op http://127.0.0.1:PORT/ met een account per rol.
    """
    from bot.cli.demo import demo_accounts, run_demo

    summary = run_demo(out, progress=not as_json)
    if as_json:
        emit_json(summary)
    if serve:
        from bot.web.app import serve as serve_console

        settings = load_settings(out / "config.toml")
        click.echo("\nAccounts voor de webconsole (de wachtwoorden worden niet bewaard; een nieuwe start maakt nieuwe):",
                   err=True)
        for username, role, password in demo_accounts(settings):
            click.echo(f"  {username:<18} {role:<12} {password}", err=True)
        click.echo(f"\nwebconsole op http://127.0.0.1:{port}/ (stoppen met Ctrl+C)", err=True)
        serve_console(settings, host="127.0.0.1", port=port)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@handle_errors
def init(directory: Path):
    """Schrijf een startconfiguratie, regels en contactpersonen om aan te passen."""
    from bot.cli.starter import write_starter

    for path in write_starter(directory):
        click.echo(f"geschreven: {path}")
    # the starter configuration finds names with deduce: its lists are built once, now, not on the first question
    click.echo("namenlijsten van deduce laden (de eerste keer na een installatie 1-2 minuten)...", err=True)
    deidentify.load()
    click.echo(f"Pas {directory / 'config.toml'} aan en controleer met: bvhk-triage --config "
               f"{directory / 'config.toml'} check --offline")


@main.command()
@click.option("--offline", is_flag=True, help="Alleen bestanden controleren, geen verbindingen maken.")
@click.pass_context
@handle_errors
def check(ctx, offline: bool):
    """Controleer configuratie, regels en contactpersonen (en zonder --offline: verbindingen)."""
    from bot.service.check import check_all

    lines, ok = check_all(settings_from(ctx), offline=offline)
    for line in lines:
        click.echo(line)
    if not ok:
        raise Failed("niet alles werkt; zie de regels hierboven")


# -- the worker ---------------------------------------------------------------------------
@main.command()
@click.option("--mailbox", "mailboxes", multiple=True, help="Alleen deze mailbox (herhaalbaar).")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als JSON.")
@click.pass_context
@handle_errors
def poll(ctx, mailboxes, as_json: bool):
    """Eén ronde nu: nieuwe mail ophalen, triëren, doorsturen."""
    from bot.cli.output import poll_with_progress
    from bot.service.worker import Runtime

    settings = settings_from(ctx)
    for name in mailboxes:
        settings.mailbox(name)
    runtime = Runtime.start(settings)
    report = poll_with_progress(runtime, mailboxes=list(mailboxes) or None, show=not as_json)
    if as_json:
        emit_json(report.as_dict())
    else:
        from bot.cli.output import print_poll

        print_poll(report)
    if report.errors or report.delivery_failed:
        raise Failed("; ".join(report.errors) or f"{report.delivery_failed} bericht(en) niet afgeleverd")


@main.command()
@click.pass_context
@handle_errors
def run(ctx):
    """De worker: haalt volgens schema mail op, bewaakt de backlog; stopt netjes op SIGTERM/SIGINT."""
    from bot.service.scheduler import run_worker

    settings = settings_from(ctx)
    if settings.web.in_run:  # the console in this process too
        from bot.web.app import serve_in_thread

        run_worker(settings, beside=serve_in_thread)
    else:
        run_worker(settings)


@main.command()
@click.argument("path", type=click.Path(allow_dash=True))
@click.option("--mailbox", help="Doe alsof de mail in deze mailbox binnenkwam (standaard: de eerste).")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als JSON.")
@click.pass_context
@handle_errors
def classify(ctx, path: str, mailbox: str | None, as_json: bool):
    """Triëer één .eml zonder iets op te slaan of te versturen."""
    from bot.cli.output import print_classification
    from bot.triage.classify import classify_file

    result = classify_file(settings_from(ctx), path, mailbox=mailbox)
    if as_json:
        emit_json(result)
    else:
        print_classification(result)


# -- the classifier -----------------------------------------------------------------------
@main.command()
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), help="Gelabelde JSONL (standaard: uit de configuratie).")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def train(ctx, data: Path | None, as_json: bool):
    """Train en bewaar een nieuwe modelversie (uit gelabelde data en correcties)."""
    from bot.triage.training import train_command

    result = train_command(settings_from(ctx), data=data)
    emit_json(result) if as_json else click.echo(result["message"])


@main.command()
@click.option("--data", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Gelabelde JSONL.")
@click.option("--cross-validate", "folds", type=click.IntRange(2, 20), help="Train en scoor K folds van DATA.")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def evaluate(ctx, data: Path, folds: int | None, as_json: bool):
    """Scoor het huidige model op gelabelde data (of met --cross-validate K)."""
    from bot.cli.output import print_evaluation
    from bot.triage.training import evaluate_command

    result = evaluate_command(None if folds else settings_from(ctx), data=data, folds=folds)
    emit_json(result) if as_json else print_evaluation(result)


@main.group()
def model():
    """De opgeslagen modelversies: tonen en terugzetten."""


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def model_list(ctx, as_json: bool):
    """Toon de modelversies met hun scores; * is de actieve."""
    from classifiers import ModelStore

    store = ModelStore(settings_from(ctx).classifier.models)
    active = store.active_version()
    rows = [{"version": v, "active": v == active, **store.metrics(v)} for v in store.versions()]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        f1 = f"macro-F1 {row['macro_f1']:.3f}" if "macro_f1" in row else "niet gescoord"
        click.echo(f"{'*' if row['active'] else ' '} {row['version']}  {f1}  ({row.get('n_train', '?')} trainingsvragen)")


@model.command("rollback")
@click.pass_context
@handle_errors
def model_rollback(ctx):
    """Zet het vorige actieve model terug (één stap terug)."""
    from bot.triage.training import rollback_model

    settings = settings_from(ctx)
    click.echo(rollback_model(settings, open_database(settings.storage.url), actor=getpass.getuser()))


@main.command()
@click.argument("question_id")
@click.option("--theme", required=True, help="Het juiste thema (sleutel uit themes.toml).")
@click.option("--organisation", type=click.Choice(rules.ORGANISATIONS), help="De organisatie die moet antwoorden.")
@click.option("--region")
@click.option("--by", metavar="EMAIL", help="De contactpersoon die corrigeert (standaard: de ingelogde gebruiker).")
@click.pass_context
@handle_errors
def feedback(ctx, question_id, theme, organisation, region, by):
    """Leg een correctie vast (training data voor het volgende model)."""
    from bot.backlog.corrections import record_feedback

    click.echo(record_feedback(settings_from(ctx), question_id, theme=theme, organisation=organisation, region=region, by=by))


@main.command()
@click.argument("question_id", metavar="ID")
@click.argument("email")
@click.option("--reason", default="", help="Waarom (komt in het auditlog en in de doorgestuurde mail).")
@click.pass_context
@handle_errors
def assign(ctx, question_id: str, email: str, reason: str):
    """Wijs vraag ID (nummer of kenmerk) met de hand toe aan contactpersoon EMAIL en stuur haar door.

    \b
    Voorbeeld: bvhk-triage assign 0a1b2c3d4e5f a.bakker@ind.example --reason "kent de zaak"
    """
    from bot.backlog.actions import Desk, assign as assign_question, find

    settings = settings_from(ctx)
    desk, engine = Desk.load(settings), open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        question = find(session, question_id)
        assign_question(session, desk, question, email, actor=getpass.getuser(), reason=reason)
        kenmerk = question.triage_id
    click.echo(f"vraag {kenmerk} toegewezen aan {email.strip().lower()}; {send_now(settings, engine)}")


@main.group()
def quarantine():
    """Wat niet getrieerd kon worden: bekijken, opnieuw triëren of ongewijzigd doorsturen."""


@quarantine.command("list")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def quarantine_list(ctx, as_json: bool):
    """Toon de berichten in quarantaine, oudste eerst, met hun reden (nooit de inhoud)."""
    from bot.backlog.listing import quarantine_rows
    from bot.cli.output import print_quarantine

    rows = quarantine_rows(open_database(settings_from(ctx).storage.url))
    emit_json(rows) if as_json else print_quarantine(rows)


@quarantine.command("show")
@click.argument("question_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def quarantine_show(ctx, question_id: str, as_json: bool):
    """Toon één bericht in quarantaine: reden, grootte, afzenderdomein, waar het staat."""
    from bot.backlog.listing import quarantine_rows

    rows = [r for r in quarantine_rows(open_database(settings_from(ctx).storage.url))
            if question_id in (r["triage_id"], str(r["id"]))]
    if not rows:
        raise ActionError(f"'{question_id}' staat niet in quarantaine (zie: bvhk-triage quarantine list)")
    if as_json:
        emit_json(rows[0])
        return
    for key, value in rows[0].items():
        click.echo(f"{key:16} {value}")


@quarantine.command("release")
@click.argument("question_id", metavar="ID")
@click.pass_context
@handle_errors
def quarantine_release(ctx, question_id: str):
    """Triëer een bericht in quarantaine opnieuw (na een correctie of een hogere limiet)."""
    from bot.backlog.actions import Desk, find, release
    from bot.triage.training import ensure_model

    settings = settings_from(ctx)
    desk, engine = Desk.load(settings), open_database(settings.storage.url)
    model = ensure_model(settings, ruleset=desk.ruleset, engine=engine)
    with unit_of_work(engine) as session:
        line = release(session, desk, find(session, question_id), actor=getpass.getuser(), model=model, engine=engine)
    click.echo(f"{line}; {send_now(settings, engine)}")


@quarantine.command("forward")
@click.argument("question_id", metavar="ID")
@click.argument("email")
@click.pass_context
@handle_errors
def quarantine_forward(ctx, question_id: str, email: str):
    """Stuur een bericht in quarantaine ongewijzigd door aan contactpersoon EMAIL."""
    from bot.backlog.actions import Desk, find, hand_on

    settings = settings_from(ctx)
    desk, engine = Desk.load(settings), open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        question = find(session, question_id)
        hand_on(session, desk, question, email, actor=getpass.getuser())
        kenmerk = question.triage_id
    click.echo(f"{kenmerk} ongewijzigd doorgestuurd aan {email.strip().lower()}; {send_now(settings, engine)}")


# -- backlog, digest, report --------------------------------------------------------------
@main.command()
@click.option("--overdue", is_flag=True, help="Alleen vragen over de termijn.")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def backlog(ctx, overdue: bool, as_json: bool):
    """Openstaande vragen met contactpersoon, leeftijd en termijn."""
    from bot.backlog.listing import backlog_rows
    from bot.cli.output import print_backlog
    from storage.db import open_database

    settings = settings_from(ctx)
    rows = backlog_rows(open_database(settings.storage.url), overdue=overdue, today=datetime.now(timezone.utc).date())
    emit_json(rows) if as_json else print_backlog(rows)


@main.command()
@click.option("--dry-run", is_flag=True, help="Alleen tellen wat zou verdwijnen.")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def purge(ctx, dry_run: bool, as_json: bool):
    """Pas het bewaarbeleid toe: wat ouder is dan body_retention_days verdwijnt.

    Van oudere vragen: tekst, onderwerp, afzenderadres en toelichting; verder verzonden
    berichtinhouden, bewaarde originelen, vrije tekst in het auditlog en modelversies na de
    nieuwste [privacy] keep_models. Metadata, labels en routeringsbesluiten blijven; SQLite
    wordt daarna herschreven. Met --dry-run: alleen tellen wat zou verdwijnen.
    """
    from bot.backlog.retention import purge as run_purge
    from storage.db import open_database

    settings = settings_from(ctx)
    result = run_purge(open_database(settings.storage.url), retention_days=settings.storage.body_retention_days,
                       dry_run=dry_run, models=settings.classifier.models, keep_models=settings.privacy.keep_models)
    if as_json:
        emit_json(result.as_dict())
    else:
        verb = "zou verwijderen" if dry_run else "verwijderd"
        click.echo(f"{verb} (van vóór {result.before:%Y-%m-%d}): {result.bodies} vragen (tekst, onderwerp, "
                   f"afzender, toelichting), {result.payloads} verzonden berichtinhouden, "
                   f"{result.originals} originelen, {result.audit_details} auditdetails met vrije tekst, "
                   f"{len(result.models)} oude modelversies")


# -- audit --------------------------------------------------------------------------------
@main.group("audit")
def audit_group():
    """Het auditlog: wie deed wat, in een keten die wijzigen en verwijderen zichtbaar maakt."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def audit_verify(ctx, as_json: bool):
    """Controleer dat het auditlog onbroken is; exit 1 met de eerste regel die niet klopt."""
    from storage.audit import verify
    from storage.db import open_database, unit_of_work

    with unit_of_work(open_database(settings_from(ctx).storage.url)) as session:
        verdict = verify(session)
    if as_json:
        emit_json({"ok": verdict.ok, "rows": verdict.rows, "problem": verdict.problem})
    else:
        click.echo(verdict.line())
    if not verdict.ok:
        sys.exit(1)


# -- rules --------------------------------------------------------------------------------
@main.group("rules")
def rules_group():
    """De routeringsregels: controleren en uitproberen op de geschiedenis."""


@rules_group.command("check")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Een andere regelmap dan die uit de configuratie.")
@click.pass_context
@handle_errors
def rules_check(ctx, rules_dir: Path | None):
    """Laad en controleer de regels en contactpersonen; fouten noemen bestand, regel en sleutel."""
    settings = settings_from(ctx)
    ruleset = rules.load_ruleset(rules_dir or settings.routing.rules)
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    click.echo(f"ok: {ruleset.describe()}; {len(contacts)} contactpersonen")
    for warning in ruleset.coverage_warnings(contacts):
        click.echo(f"let op: {warning}")


@rules_group.command("replay")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Vanaf deze datum (JJJJ-MM-DD); zonder: alle opgeslagen vragen.")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Map met kandidaat-regels (standaard: de huidige).")
@click.option("--contacts", "contacts_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Kandidaat-contactpersonen (CSV; standaard: de huidige).")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def rules_replay(ctx, since: datetime | None, rules_dir: Path | None, contacts_file: Path | None, as_json: bool):
    """Routeer opgeslagen vragen opnieuw met kandidaat-regels en toon wat zou veranderen.

    Er wordt niets opgeslagen of verstuurd. Voorbeeld:

    \b
      bvhk-triage rules replay --since 2026-09-01 --rules ./rules-nieuw
    """
    from bot.backlog.replay import load_candidate, replay
    from bot.cli.output import print_replay
    from storage.db import open_database

    settings = settings_from(ctx)
    current = load_candidate(None, None, settings=settings)
    candidate = load_candidate(rules_dir, contacts_file, settings=settings)
    result = replay(open_database(settings.storage.url), since=since.date() if since else None, current=current,
                    candidate=candidate, min_confidence=settings.classifier.min_confidence,
                    mailbox_organisation=settings.mailbox_organisations)
    emit_json(result) if as_json else print_replay(result)


# -- contacts -----------------------------------------------------------------------------
@main.group()
def contacts():
    """De contactpersonen: importeren, tonen, afwezigheid."""


@contacts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def contacts_list(ctx, as_json: bool):
    """Toon de contactpersonen met hun regio, thema's, capaciteit en openstaande vragen."""
    from bot.backlog.contacts import contact_rows
    from bot.cli.output import print_contacts

    rows = contact_rows(settings_from(ctx))
    emit_json(rows) if as_json else print_contacts(rows)


@contacts.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
@handle_errors
def contacts_import(ctx, file: Path):
    """Controleer FILE en maak het de contactpersonenlijst uit de configuratie."""
    from bot.backlog.contacts import import_contacts

    click.echo(import_contacts(settings_from(ctx), file, actor=getpass.getuser()))


@contacts.command("absent")
@click.argument("email")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Eerste dag (JJJJ-MM-DD).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Laatste dag (JJJJ-MM-DD).")
@click.pass_context
@handle_errors
def contacts_absent(ctx, email: str, start: datetime, end: datetime):
    """Leg een afwezigheid vast; vragen gaan dan naar de vervanger of de regio."""
    from bot.backlog.contacts import record_absence

    click.echo(record_absence(settings_from(ctx), email, start.date(), end.date(), actor=getpass.getuser()))


# -- the web console ------------------------------------------------------------------------
@main.command()
@click.option("--host", help="Adres om op te luisteren (standaard [web] host, 127.0.0.1).")
@click.option("--port", type=int, help="Poort (standaard [web] port, 8080).")
@click.pass_context
@handle_errors
def web(ctx, host: str | None, port: int | None):
    """Start de webconsole: backlog, beoordelen en vragen in de browser.

    \b
    Aanmelden met een lokaal account (zie 'users add') of met OpenID Connect ([web.oidc]).
    Achter een reverse proxy: zet [web] public_url en trusted_proxies.
    Voorbeeld: bvhk-triage web --port 8080   en open http://127.0.0.1:8080/
    """
    from bot.web.app import serve

    settings = settings_from(ctx)
    open_database(settings.storage.url)  # migrated before the first request
    where = f"http://{host or settings.web.host}:{port or settings.web.port}{settings.web.base_path}/"
    click.echo(f"webconsole op {where} (stoppen met Ctrl+C)", err=True)
    serve(settings, host=host, port=port)


@main.group()
def users():
    """Lokale accounts van de webconsole (zonder single sign-on)."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["contact", "coordinator", "admin", "reader"]),
              help="contact: eigen vragen; coordinator: de eigen organisatie (of regio); admin: alles; "
                   "reader: alleen rapporten.")
@click.option("--organisation", type=click.Choice(rules.ORGANISATIONS), help="Voor een coördinator: de organisatie.")
@click.option("--region", default="", help="Voor een coördinator: alleen deze regio.")
@click.option("--email", default="", help="Voor een contactpersoon: het adres waaraan vragen worden toegewezen.")
@click.option("--password-env", metavar="VAR",
              help="Omgevingsvariabele met het wachtwoord; zonder deze optie wordt erom gevraagd.")
@click.pass_context
@handle_errors
def users_add(ctx, username: str, role: str, organisation: str | None, region: str, email: str,
              password_env: str | None):
    """Voeg account USERNAME toe (of vervang het) met een rol.

    \b
    Voorbeelden:
      bvhk-triage users add coord-ind --role coordinator --organisation IND
      bvhk-triage users add s.verbeek --role contact --email s.verbeek@ind.example
      WACHTWOORD=... bvhk-triage users add beheer --role admin --password-env WACHTWOORD
    """
    from bot.settings import secret
    from bot.web.accounts import add
    from storage import repo

    if password_env:
        password = secret(password_env, key="--password-env")
    else:
        password = click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Nogmaals")
    settings = settings_from(ctx)
    with unit_of_work(open_database(settings.storage.url)) as session:
        account = add(session, username=username, role=role, password=password, organisation=organisation or "",
                      region=region, email=email)
        repo.audit(session, action="users:add", actor=getpass.getuser(), username=account.username, role=role)
    click.echo(f"account {username} ({role}) opgeslagen")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Resultaat als één JSON-document op stdout.")
@click.pass_context
@handle_errors
def users_list(ctx, as_json: bool):
    """Toon de lokale accounts met hun rol (nooit een wachtwoord)."""
    from storage import console

    settings = settings_from(ctx)
    with unit_of_work(open_database(settings.storage.url)) as session:
        rows = [{"username": u.username, "role": u.role, "organisation": u.organisation, "region": u.region,
                 "email": u.email, "created_at": u.created_at.isoformat(timespec="seconds")}
                for u in console.users(session)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("geen lokale accounts (voeg er een toe met 'bvhk-triage users add')")
    for row in rows:
        where = " ".join(v for v in (row["organisation"], row["region"], row["email"]) if v)
        click.echo(f"{row['username']:<24} {row['role']:<12} {where}")


@users.command("remove")
@click.argument("username")
@click.pass_context
@handle_errors
def users_remove(ctx, username: str):
    """Verwijder account USERNAME; een sessie ervan houdt bij de volgende pagina op."""
    from storage import console, repo

    settings = settings_from(ctx)
    with unit_of_work(open_database(settings.storage.url)) as session:
        if not console.remove_user(session, username=username):
            raise ActionError(f"geen account '{username[:64]}' (zie 'bvhk-triage users list')")
        repo.audit(session, action="users:remove", actor=getpass.getuser(), username=username)
    click.echo(f"account {username} verwijderd")


@main.command()
@click.option("--dry-run", is_flag=True, help="Niets versturen; alleen tonen (en met --out schrijven).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Schrijf elke digest als HTML en tekst in deze map.")
@click.pass_context
@handle_errors
def digest(ctx, dry_run: bool, out: Path | None):
    """Backlogdigest per coördinator: de open vragen van hun organisatie (of regio).

    Verstuurt via de ingestelde aflevering, alleen aan wie iets te lezen heeft, en per dag
    hooguit één keer per coördinator. Met --dry-run wordt niets verstuurd.
    """
    from bot.reports.digest import build_digests, write_digests
    from bot.reports.mailing import send_digests
    from storage.db import open_database

    settings = settings_from(ctx)
    engine = open_database(settings.storage.url)
    digests = build_digests(settings, engine)
    for item in digests:
        click.echo(f"{item.coordinator.email} ({item.scope}): {len(item.rows)} open, {item.overdue} over de termijn")
    if not digests:
        click.echo("geen coördinator met openstaande vragen")
    if out is not None:
        for path in write_digests(settings, engine, out):
            click.echo(f"geschreven: {path}")
    if dry_run:
        return
    sent = send_digests(settings, engine)
    click.echo(f"verstuurd: {len(sent.sent)}, eerder al verstuurd: {len(sent.skipped)}, mislukt: {len(sent.failed)}")
    if sent.failed:
        raise Failed(f"{len(sent.failed)} digest(s) niet afgeleverd")


@main.command()
@click.option("--week", "week_text", metavar="YYYY-Www", help="ISO-week, bv. 2025-W14 (standaard: de vorige volledige week).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Schrijf het rapport in deze map: HTML, grafieken (PNG), tekst en Excel.")
@click.option("--dry-run", is_flag=True, help="Niets versturen.")
@click.pass_context
@handle_errors
def report(ctx, week_text: str | None, out: Path | None, dry_run: bool):
    """Weekrapport voor het SKIV-overleg: aantallen, reactietijden, backlog en signalen.

    Zonder --dry-run gaat het naar de ontvangers in [reports] skiv_recipients, per week
    hooguit één keer per ontvanger. Alleen aantallen, geen inhoud van vragen.
    """
    from bot.reports.files import write_report
    from bot.reports.mailing import send_report
    from bot.reports.weekly import parse_week
    from storage.db import open_database

    try:
        week = parse_week(week_text) if week_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    settings = settings_from(ctx)
    recipients = settings.reports.skiv_recipients
    if out is None and (dry_run or not recipients):
        raise click.UsageError("niets te doen: geef --out DIR, of zet ontvangers in [reports] skiv_recipients")
    engine = open_database(settings.storage.url)
    if out is not None:
        for path in write_report(settings, engine, out, week=week):
            click.echo(f"geschreven: {path}")
    if dry_run or not recipients:
        return
    sent = send_report(settings, engine, week=week)
    click.echo(f"{sent.period}: verstuurd {len(sent.sent)}, eerder al verstuurd {len(sent.skipped)}, "
               f"mislukt {len(sent.failed)}")
    if sent.failed:
        raise Failed(f"{len(sent.failed)} rapport(en) niet afgeleverd")


def entry() -> None:
    main(prog_name="bvhk-triage")
