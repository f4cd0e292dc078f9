"""`demo`: the whole pipeline on the bundled sample mailbox, in a working folder.

Writes a config there (SQLite, a local outbox, the sample contacts and rules) and plays
the sample mailboxes back day by day: each day's mail (questions, and the answers sent
from the shared mailbox) is delivered into working Maildirs under `mail/`, then one poll
runs, as the worker would see it over the autumn. Then it writes the digests and the
weekly report. Safe to repeat: a second run finds nothing new and routes nothing twice.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import func, select

from bot.settings import DEFAULT_RULES, PACKAGE_DIR, load_settings
from classifiers import deidentify
from storage.db import unit_of_work
from storage.models import Question

SAMPLE = PACKAGE_DIR / "sample"
MAILBOXES = (("ind", "IND"), ("dtv", "DT&V"), ("rvdk", "RvdK"))


def demo_config(out: Path) -> str:
    boxes = "\n".join(
        f'[[mailboxes]]\nname = "{name}"\norganisation = "{org}"\nkind = "maildir"\n'
        f'address = "bvhk@{name}.example"\npath = "{out / "mail" / name}"\n'
        for name, org in MAILBOXES
    )
    return f'''# Written by `bvhk-triage demo`: the sample mailbox, SQLite and a local outbox.
[storage]
url = "sqlite:///bvhk-triage.sqlite3"

{boxes}
[delivery]
kind = "outbox"
from = "bvhk-triage@bvhk.example"
path = "outbox"

[routing]
rules = "{DEFAULT_RULES}"
contacts = "{SAMPLE / "contacts.csv"}"

[classifier]
models = "models"
training_data = "{SAMPLE / "labelled.jsonl"}"
heldout_data = "{SAMPLE / "heldout.jsonl"}"
'''


def run_demo(out: Path, *, progress: bool) -> dict:
    from bot.service.worker import Runtime

    console = Console(stderr=True, quiet=not progress)
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.toml"
    config.write_text(demo_config(out.resolve()), encoding="utf-8")
    settings = load_settings(config)
    deidentify.configure(settings.privacy.deidentify)  # as every other command does (cli.commands.settings_from)
    started = time.perf_counter()
    with console.status("model en regels laden (de eerste keer: model trainen)…"):
        runtime = Runtime.start(settings)
    report = play_back(runtime, out / "mail", show=progress)
    seconds = time.perf_counter() - started
    written = write_outputs(runtime, out)
    summary = summarise(runtime, report, seconds) | {"written": [str(p) for p in written]}
    if progress:
        print_summary(summary)
    return summary


def play_back(runtime, work: Path, *, show: bool):
    """Deliver the sample mail into the working Maildirs day by day, polling after each day."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.service.worker import PollReport, poll

    days: dict[str, list[tuple[Path, Path]]] = {}
    for name, _org in MAILBOXES:
        source = SAMPLE / "mailbox" / name
        for sub in ("", ".Sent"):
            for leaf in ("cur", "new", "tmp"):
                (work / name / sub / leaf).mkdir(parents=True, exist_ok=True)
            for path in sorted((source / sub / "cur").glob("*")):
                target = work / name / sub / "cur" / path.name
                if path.name.startswith(".") or target.exists():
                    continue
                day = time.strftime("%Y-%m-%d", time.gmtime(int(path.name.split(".")[0])))
                days.setdefault(day, []).append((path, target))
    total = PollReport()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True, disable=not show) as bar:
        task = bar.add_task("voorbeeldmail dag voor dag afspelen", total=len(days) or 1)
        for day in sorted(days):
            for source, target in days[day]:
                target.write_bytes(source.read_bytes())
            _add(total, poll(runtime))
            bar.advance(task)
        if not days:
            _add(total, poll(runtime))
    return total


def _add(total, report) -> None:
    for key, value in vars(report).items():
        current = getattr(total, key)
        if isinstance(value, Counter):
            current.update(value)  # keeps the zero counts the JSON names
        elif isinstance(value, int):
            setattr(total, key, current + value)
        elif isinstance(value, list):
            current.extend(value)


def write_outputs(runtime, out: Path) -> list[Path]:
    from bot.reports.digest import write_digests
    from bot.reports.files import write_report
    from bot.reports.weekly import latest_week

    written = write_digests(runtime.settings, runtime.engine, out / "digest")
    # the sample mail is dated in the autumn of 2026: report on the week of the newest question
    week = latest_week(runtime.engine)
    if week is not None and _newest_day(runtime) < week.end:  # that week has not ended: the one before
        week = type(week)(week.start - timedelta(days=7))
    written += write_report(runtime.settings, runtime.engine, out / "rapport", week=week)
    return written


def _newest_day(runtime):
    from bot.reports.weekly import LOCAL

    with unit_of_work(runtime.engine) as session:
        newest = session.exec(select(func.max(Question.received_at)).where(Question.verdict == "question")).one()
    return newest.astimezone(LOCAL).date()


def summarise(runtime, report, seconds: float) -> dict:
    with unit_of_work(runtime.engine) as session:
        questions = session.exec(select(Question)).all()
        asked = [q for q in questions if q.verdict == "question"]
        return {
            "this_run": report.as_dict(),
            "seconds": round(seconds, 2),
            "total": len(questions),
            "questions": len(asked),
            "routed": sum(q.assignee is not None for q in asked),
            "review": sum(q.assignee is None for q in asked),
            "answered": sum(q.answered_at is not None for q in asked),
            "open": sum(q.status in ("routed", "review", "reassigned") for q in asked),
            "skipped": dict(Counter(q.verdict for q in questions if q.verdict != "question")),
            "per_theme": dict(Counter(q.theme for q in asked).most_common()),
            "per_organisation": dict(Counter(q.organisation for q in asked).most_common()),
            "per_region": dict(Counter(f"{q.organisation} {q.region or '?'}" for q in asked).most_common()),
            "per_contact_person": dict(Counter(q.assignee or "review" for q in asked).most_common()),
        }


def print_summary(summary: dict) -> None:
    console = Console()
    run = summary["this_run"]
    console.print(
        f"[bold]Deze run[/bold]: {run['fetched']} opgehaald, {run['routed']} doorgestuurd, "
        f"{run['needs_review']} ter beoordeling, {sum(run['skipped'].values())} overgeslagen, "
        f"{run['quarantined']} in quarantaine, {run['delivered']} afgeleverd, "
        f"{run['answered']} beantwoord gezien — {summary['seconds']} s"
    )
    console.print(
        f"[bold]In de database[/bold]: {summary['questions']} vragen ({summary['routed']} doorgestuurd, "
        f"{summary['review']} ter beoordeling; {summary['answered']} beantwoord, "
        f"{summary['open']} open); overgeslagen: "
        + (", ".join(f"{k} {v}" for k, v in summary["skipped"].items()) or "niets")
    )
    for title, key in (("thema", "per_theme"), ("organisatie", "per_organisation"),
                       ("regio", "per_region"), ("contactpersoon", "per_contact_person")):
        table = Table(title, "vragen", title_justify="left")
        for label, count in summary[key].items():
            table.add_row(str(label), str(count))
        console.print(table)
    for path in summary["written"]:
        console.print(f"geschreven: {path}")
    console.print("\nDe webconsole op deze gegevens, met een account per rol: [bold]make web[/bold] "
                  "(of: bvhk-triage demo --serve)")


DEMO_ACCOUNTS = (  # username, role, options: one per role, on the sample's contacts
    ("coordinator-ind", "coordinator", {"organisation": "IND"}),
    ("contact-ind", "contact", {"email": "s.verbeek@ind.example"}),
    ("beheerder", "admin", {}),
    ("skiv-lezer", "reader", {}),
)


def demo_accounts(settings) -> list[tuple[str, str, str]]:
    """One local account per role with a new random password each: (username, role, password)."""
    import secrets

    from bot.web.accounts import add
    from storage.db import open_database

    made = []
    with unit_of_work(open_database(settings.storage.url)) as session:
        for username, role, options in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            add(session, username=username, role=role, password=password, **options)
            made.append((username, role, password))
    return made
