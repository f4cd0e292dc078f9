"""What the terminal shows: command bodies that read or print, tables and progress (rich).

Progress and tables go to stderr/stdout for people; `--json` output is built from the same
dicts and printed by the CLI alone.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import rules
from bot.parse import ParseError
from bot.pipeline import Context, Directory, triage_message
from bot.settings import ConfigError, Settings
from bot.training import ensure_model, read_labelled
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import Correction

out = Console()
err = Console(stderr=True)


# -- poll ---------------------------------------------------------------------------------
def poll_with_progress(runtime, *, mailboxes, show: bool):
    from bot.worker import poll

    if not show or not err.is_terminal:
        return poll(runtime, mailboxes=mailboxes)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("berichten ophalen en triëren", total=None)
        report = poll(runtime, mailboxes=mailboxes, progress=lambda _name: bar.advance(task))
    return report


def print_poll(report) -> None:
    skipped = ", ".join(f"{k} {v}" for k, v in report.skipped.items() if v) or "geen"
    out.print(
        f"opgehaald {report.fetched}, getrieerd {report.triaged}, doorgestuurd {report.routed}, "
        f"ter beoordeling {report.needs_review}, overgeslagen: {skipped}, "
        f"in quarantaine {report.quarantined}, afgeleverd {report.delivered}, "
        f"niet afgeleverd {report.delivery_failed}"
    )
    for line in report.errors:
        err.print(f"[red]{line}[/red]")


# -- classify -----------------------------------------------------------------------------
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
    engine = _existing_database(settings)
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


def print_classification(result: dict) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("screening", f"{result['screen']}  {result.get('screen_reason') or result.get('reason', '')}")
    for key in ("theme", "organisation", "asking_organisation", "region"):
        value = result.get(key)
        if value and value["label"] is not None:
            table.add_row(key, f"{value['label']}  ({value['confidence']:.0%})")
    if result.get("explanation"):
        table.add_row("waarom", ", ".join(result["explanation"]))
    route = result.get("route")
    if route:
        table.add_row("naar", route["assignee"] or "beoordeling (review)")
        table.add_row("regel", route["rule"])
        table.add_row("reden", route["reason"])
        table.add_row("regels geraakt", ", ".join(route["rules_hit"]) or "—")
        table.add_row("regels gemist", ", ".join(route["rules_missed"]) or "—")
    out.print(table)


def _existing_database(settings: Settings):
    url = settings.storage.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return open_database(url)


# -- train, evaluate, feedback ------------------------------------------------------------
def train_command(settings: Settings, *, data: Path | None) -> dict:
    from bot.training import retrain

    ruleset = rules.load_ruleset(settings.routing.rules)
    return retrain(settings, ruleset=ruleset, engine=open_database(settings.storage.url), data=data)


def evaluate_command(ctx: click.Context, *, data: Path, folds: int | None) -> dict:
    """Score the active model on DATA (or K folds of DATA), with a learning curve of DATA."""
    from bot.cli import settings_from
    from classifiers import cross_validate, evaluate, learning_curve

    if folds:
        examples = read_labelled(data, themes=None)
        result = cross_validate(examples, folds)
        seeds = None
    else:
        settings = settings_from(ctx)
        ruleset = rules.load_ruleset(settings.routing.rules)
        examples = read_labelled(data, themes=ruleset.theme_keys())
        model = ensure_model(settings, ruleset=ruleset, engine=None, persist=False)
        result = evaluate(model, examples, threshold=settings.classifier.min_confidence)
        seeds = ruleset.seed_terms()
    return result | {"learning_curve": learning_curve(examples, curve_sizes(len(examples)), seed_terms=seeds)}


def curve_sizes(n: int) -> list[int]:
    """Training sizes for the learning curve: roughly doubling, up to three quarters of the data."""
    top = int(n * 0.75)
    sizes = [s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if s < top]
    return sizes + [top] if top >= 10 else sizes


def print_evaluation(result: dict) -> None:
    out.print(f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro-F1={result['macro_f1']:.3f}"
              f"  onthouden={result.get('abstained', 0)}")
    table = Table("thema", "precision", "recall", "f1", "n")
    for label, row in sorted(result["per_label"].items()):
        table.add_row(label, f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}", str(row["support"]))
    out.print(table)
    for point in result.get("learning_curve", []):
        out.print(f"  {point['n']:>6} voorbeelden: macro-F1 {point['macro_f1']:.3f}")


def record_feedback(settings: Settings, ref: str, *, theme: str, organisation, region, by: str) -> str:
    ruleset = rules.load_ruleset(settings.routing.rules)
    if theme not in ruleset.theme_keys():
        raise ConfigError(f"--theme: onbekend thema '{theme}' (bekend: {', '.join(ruleset.theme_keys())})")
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        question = repo.question_by_ref(session, ref=ref)
        if question is None:
            raise ConfigError(f"vraag '{ref}' niet gevonden (gebruik het nummer of het kenmerk uit de doorgestuurde mail)")
        repo.add_correction(session, correction=Correction(
            question_id=question.id, theme=theme, organisation=organisation, region=region, by=by))
        question.corrected = True
        session.add(question)
        repo.audit(session, action="correction", question_id=question.id, actor=by,
                   theme_before=question.theme, theme_after=theme)
    return f"correctie vastgelegd voor vraag {question.id}: thema {theme}"


# -- backlog and contacts -----------------------------------------------------------------
def print_backlog(rows: list[dict]) -> None:
    if not rows:
        out.print("Geen openstaande vragen.")
        return
    table = Table("id", "status", "thema", "organisatie", "regio", "contactpersoon", "dagen", "termijn")
    for r in rows:
        due = f"[red]{r['due_on']}[/red]" if r["overdue"] else (r["due_on"] or "—")
        table.add_row(str(r["id"]), r["status"], r["theme"] or "—", r["organisation"] or "—",
                      r["region"] or "—", r["assignee"] or "—", str(r["age_days"]), due)
    out.print(table)
    out.print(f"{len(rows)} openstaand, {sum(r['overdue'] for r in rows)} over de termijn")


def contact_rows(settings: Settings) -> list[dict]:
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(settings.routing.contacts, ruleset)
    counts, absent = Counter(), set()
    engine = _existing_database(settings)
    if engine is not None:
        with unit_of_work(engine) as session:
            counts.update(repo.open_counts(session))
            absent = repo.absent_on(session, day=date.today())
    return [
        {"name": c.name, "email": c.email, "organisation": c.organisation, "region": c.region,
         "location": c.location, "themes": list(c.themes), "capacity": c.capacity, "active": c.active,
         "role": c.role, "deputy": c.deputy, "open_questions": counts.get(c.email, 0),
         "absent_today": c.email in absent}
        for c in contacts
    ]


def print_contacts(rows: list[dict]) -> None:
    table = Table("naam", "e-mail", "organisatie", "regio", "rol", "open/capaciteit", "thema's", "status")
    for r in rows:
        status = "inactief" if not r["active"] else ("afwezig" if r["absent_today"] else "actief")
        table.add_row(r["name"], r["email"], r["organisation"], r["region"] or "—", r["role"],
                      f"{r['open_questions']}/{r['capacity']}", ", ".join(r["themes"]) or "alle", status)
    out.print(table)


def import_contacts(settings: Settings, file: Path) -> str:
    ruleset = rules.load_ruleset(settings.routing.rules)
    contacts = rules.load_contacts(file, ruleset)
    target = settings.routing.contacts
    if file.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.read_bytes())
    from bot.worker import _contact_row

    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        repo.replace_contacts(session, contacts=[_contact_row(c) for c in contacts])
        repo.audit(session, action="contacts:import", count=len(contacts))
    return f"{len(contacts)} contactpersonen geïmporteerd naar {target}"


def record_absence(settings: Settings, email: str, start: date, end: date) -> str:
    if end < start:
        raise ConfigError(f"--to {end} ligt vóór --from {start}")
    ruleset = rules.load_ruleset(settings.routing.rules)
    known = {c.email.lower() for c in rules.load_contacts(settings.routing.contacts, ruleset)}
    if email.lower() not in known:
        raise ConfigError(f"{settings.routing.contacts}: geen contactpersoon met e-mailadres '{email}'")
    engine = open_database(settings.storage.url)
    with unit_of_work(engine) as session:
        repo.add_absence(session, email=email.lower(), start=start, end=end)
        repo.audit(session, action="contacts:absent", email=email.lower(), start=str(start), end=str(end))
    return f"{email} afwezig van {start} tot en met {end}"


# -- rules replay -------------------------------------------------------------------------
def print_replay(result: dict) -> None:
    out.print(f"{result['questions']} vragen sinds {result['since']} opnieuw gerouteerd: "
              f"{result['changed']} anders ({result['to_review']} naar beoordeling, "
              f"{result['from_review']} uit beoordeling)")
    if not result["changed"]:
        return
    moves = Table("van", "naar", "vragen", title="Verschuivingen", title_justify="left")
    for move in result["moves"]:
        moves.add_row(move["from"], move["to"], str(move["count"]))
    out.print(moves)
    table = Table("id", "ontvangen", "thema", "nu", "met de kandidaat", "regel")
    for change in result["changes"]:
        before, after = change["before"], change["after"]
        table.add_row(str(change["id"]), (change["received_at"] or "")[:10], change["theme"] or "—",
                      before["assignee"] or "beoordeling", after["assignee"] or "beoordeling", after["rule"])
    out.print(table)
