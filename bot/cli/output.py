"""What the terminal shows: command bodies that read or print, tables and progress (rich).

Progress and tables go to stderr/stdout for people; `--json` output is built from the same
dicts and printed by the CLI alone.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table


out = Console()
err = Console(stderr=True)


# -- poll ---------------------------------------------------------------------------------
def poll_with_progress(runtime, *, mailboxes, show: bool):
    from bot.service.worker import poll  # the whole pipeline: only to poll

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
    for held in report.elsewhere:
        until = f" tot {held['until'][11:19]} UTC" if held["until"] else ""
        out.print(f"mailbox {held['mailbox']}: nu in gebruik door worker {held['holder'] or '(onbekend)'}{until}; "
                  "die haalt de mail op")
    for line in report.errors:
        err.print(f"[red]{line}[/red]", markup=True, highlight=False)


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


def print_evaluation(result: dict) -> None:
    out.print(f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro-F1={result['macro_f1']:.3f}"
              f"  onthouden={result.get('abstained', 0)}")
    table = Table("thema", "precision", "recall", "f1", "n")
    for label, row in sorted(result["per_label"].items()):
        table.add_row(label, f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}", str(row["support"]))
    out.print(table)
    reliability = result.get("reliability")
    if reliability:
        bands = Table("zekerheid", "vragen", "goed", title="Betrouwbaarheid van het thema", title_justify="left")
        for band in reliability["bands"]:
            bands.add_row(f"{band['from']:.1f}–{band['to']:.1f}", str(band["n"]),
                          "—" if band["accuracy"] is None else f"{band['accuracy']:.0%}")
        out.print(bands)
        proposal = reliability["proposed_min_confidence"]
        out.print(f"voorstel min_confidence voor {reliability['target_precision']:.0%} goed: "
                  + (f"{proposal:.2f}" if proposal is not None else "geen (geen drempel haalt dat)"))
    versus = result.get("targets", {}).get("organisation", {}).get("against_mailbox")
    if versus and versus.get("n"):
        threshold = versus["move_threshold"]
        out.print(f"organisatie op {versus['n']} vragen met bekende mailbox: model {versus['model_accuracy']:.3f}, "
                  f"mailbox van aankomst {versus['mailbox_accuracy']:.3f}, pijplijn {versus['policy_accuracy']:.3f} "
                  f"({versus['moves']} verplaatst, {versus['moves_right']} terecht; drempel "
                  + (f"{threshold:.2f})" if threshold is not None else "geen: de mailbox beslist)"))
    for point in result.get("learning_curve", []):
        out.print(f"  {point['n']:>6} voorbeelden: macro-F1 {point['macro_f1']:.3f}")


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


def print_contacts(rows: list[dict]) -> None:
    table = Table("naam", "e-mail", "organisatie", "regio", "rol", "open/capaciteit", "thema's", "status")
    for r in rows:
        status = "inactief" if not r["active"] else ("afwezig" if r["absent_today"] else "actief")
        table.add_row(r["name"], r["email"], r["organisation"], r["region"] or "—", r["role"],
                      f"{r['open_questions']}/{r['capacity']}", ", ".join(r["themes"]) or "alle", status)
    out.print(table)


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


def print_quarantine(rows: list[dict]) -> None:
    if not rows:
        out.print("Niets in quarantaine.")
        return
    table = Table("kenmerk", "mailbox", "ontvangen", "reden", "grootte", "afzenderdomein")
    for r in rows:
        table.add_row(r["triage_id"], r["mailbox"], (r["received_at"] or "")[:16].replace("T", " "), r["reason"],
                      f"{r['size'] / 1_000_000:.1f} MB" if r["size"] >= 100_000 else f"{r['size'] // 1000} kB",
                      r["sender_domain"] or "—")
    out.print(table)
    out.print(f"{len(rows)} in quarantaine. Opnieuw triëren: bvhk-triage quarantine release KENMERK; "
              "ongewijzigd doorsturen: bvhk-triage quarantine forward KENMERK E-MAILADRES")
