"""Benchmark: end-to-end throughput of the worker, and its memory (not a test).

    .venv/bin/python bench/throughput.py [--messages 1000] [--runs 3] [--pg-messages 3000]
                                         [--memory-messages 10000] [--parts sqlite postgresql memory] [--json]

1. SQLite: messages per second from a Maildir to the outbox (`bot.service.worker.poll` in one
   process: parse, screen, classify, locate, route, store, compose, deliver), against bare
   parsing of the same messages with Python's `email` package, in the same run: the issue's
   baseline, `BytesParser(policy=policy.default).parsebytes` and `get_body`, and beside it
   the parse alone (the baseline of earlier notes). The ratio says how much of a parse the
   whole pipeline costs. Median of `--runs`, the two measured in turn,
   each SQLite run on a fresh database and outbox. Start-up (imports, model, rules) is not
   in the rate; it is reported once.
2. PostgreSQL, three workers: three `bvhk-triage run` processes share six Maildir
   mailboxes, then one; the clock runs from the moment the mail lands (all three workers
   ready and idle) until every message is stored and every forward delivered. One worker on
   the same data for comparison. (A mailbox is read by one worker at a time, under its lease;
   what it read waits in the inbox queue, which every worker triages.)
   Needs PostgreSQL at 127.0.0.1:5432 (as the tests do; `--pg-admin`). Each run also reports how
   many of the machine's cores were busy meanwhile (`/proc/stat`): the machine's cores divided by
   one worker's figure is the most several workers can gain on it, whatever the code does.
3. Memory: peak resident size of one `bvhk-triage poll` process over `--memory-messages`
   (default 10,000) messages, from the kernel's accounting of that child
   (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` in a small launcher process), next to
   the same process polling an empty mailbox.

The messages are the sample mailbox (bot/sample/mailbox), cycled, each copy with its own
Message-ID: HTML and plain text, attachments, automatic replies and bounces as generated.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rules
from tests.reliability.harness import (  # noqa: E402
    BIN,
    SAMPLE,
    Database,
    Worker,
    deliver_to_maildir,
    maildir_box,
    make_maildir,
    sample_messages,
    wait_for,
    write_config,
)



def bare_parse(raws: list[bytes], *, body: bool = True) -> float:
    """Seconds to parse `raws` with `email` (policy.default) and find each one's body
    (`get_body`), the baseline the issue names; `body=False`: the parse alone (the baseline
    of the notes before this one)."""
    parser = BytesParser(policy=policy.default)
    started = time.perf_counter()
    for raw in raws:
        message = parser.parsebytes(raw)
        if body:
            message.get_body(preferencelist=("plain", "html"))
    return time.perf_counter() - started


def config_for(folder: Path, *, url: str, boxes: int, models: Path) -> Path:
    mailboxes = [maildir_box(f"box{n}", make_maildir(folder / "mail" / f"box{n}"), rules.ORGANISATIONS[n % 3])
                 for n in range(boxes)]
    return write_config(folder, url=url, models=models, smtp_port=None, mailboxes=mailboxes)


def spread(folder: Path, messages: list[tuple[str, bytes]], boxes: int) -> None:
    for n in range(boxes):
        deliver_to_maildir(folder / "mail" / f"box{n}", messages[n::boxes], first=n * len(messages))


def train(work: Path) -> Path:
    """A model trained on the sample's labelled questions, as `bvhk-triage train` makes it."""
    models = work / "models"
    config = work / "train.toml"
    config.write_text(f'[classifier]\nmodels = "{models}"\ntraining_data = "{SAMPLE / "labelled.jsonl"}"\n'
                      f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
                      f'[storage]\nurl = "sqlite:///{work / "train.sqlite3"}"\n', encoding="utf-8")
    subprocess.run([str(BIN), "--config", str(config), "train"], check=True, stdout=subprocess.DEVNULL)
    return models


# --- 1. SQLite against bare parsing ----------------------------------------------------------------
def sqlite_run(work: Path, messages: list[tuple[str, bytes]], models: Path, n: int) -> tuple[float, dict]:
    from bot.settings import load_settings
    from bot.service.worker import Runtime, poll

    folder = work / f"sqlite-{n}"
    folder.mkdir()
    config = config_for(folder, url=f"sqlite:///{folder / 'db.sqlite3'}", boxes=3, models=models)
    spread(folder, messages, 3)
    runtime = Runtime.start(load_settings(config))
    started = time.perf_counter()
    report = poll(runtime)
    seconds = time.perf_counter() - started
    runtime.engine.dispose()
    shutil.rmtree(folder)
    assert report.fetched == len(messages) and not report.errors, report.as_dict()
    return seconds, report.as_dict()


def sqlite_against_parsing(work: Path, count: int, runs: int, models: Path) -> dict:
    messages = sample_messages(count, tag="bench")
    raws = [raw for _, raw in messages]
    bare_parse(raws)  # warm-up
    pipeline, parsing, parsing_only = [], [], []
    report: dict = {}
    for n in range(runs):
        parsing.append(bare_parse(raws))
        parsing_only.append(bare_parse(raws, body=False))
        seconds, report = sqlite_run(work, messages, models, n)
        pipeline.append(seconds)
    e2e = count / statistics.median(pipeline)
    bare = count / statistics.median(parsing)
    bare_only = count / statistics.median(parsing_only)
    return {"messages": count, "runs": runs, "end_to_end_per_s": round(e2e, 1),
            "bare_parse_per_s": round(bare, 1), "ratio": round(e2e / bare, 4),
            "parse_only_per_s": round(bare_only, 1), "ratio_to_parse_only": round(e2e / bare_only, 4),
            "pipeline_s": [round(s, 2) for s in pipeline], "parse_s": [round(s, 3) for s in parsing],
            "routed": report["routed"],
            "delivered": report["delivered"]}


# --- 2. PostgreSQL with several workers -------------------------------------------------------------
def postgres_database(admin: str) -> tuple[str, str]:
    import psycopg

    name = f"bvhk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin.split("://", 1)[1].rsplit("/", 1)[0]
    return name, f"postgresql+psycopg://{host}/{name}"


def drop_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_run(work: Path, count: int, workers: int, models: Path, admin: str, *, boxes: int = 6) -> dict:
    name, url = postgres_database(admin)
    folder = work / f"pg-{workers}-{boxes}"
    folder.mkdir()
    config = config_for(folder, url=url, boxes=boxes, models=models)
    db = Database(url)
    procs = [Worker(config, folder / f"worker{n}.log") for n in range(workers)]
    try:
        for proc in procs:
            proc.start()
        wait_for(lambda: len(db.heartbeat_pids()) == workers, timeout=120, what="the workers")
        time.sleep(1.5)  # the first (empty) polls are over
        spread(folder, sample_messages(count, tag=f"pg{workers}"), boxes)
        started, cpu = time.perf_counter(), cpu_ticks()
        wait_for(lambda: db.done(count), timeout=1800, interval=0.1, what="every message")
        seconds = time.perf_counter() - started
        busy = busy_cores(cpu, cpu_ticks())
        delivered = db.scalar("SELECT count(*) FROM delivery WHERE status = 'sent'")
        for proc in procs:
            proc.stop()
    finally:
        for proc in procs:
            proc.ensure_gone()
        db.close()
        drop_database(admin, name)
    return {"messages": count, "workers": workers, "mailboxes": boxes, "seconds": round(seconds, 1),
            "per_s": round(count / seconds, 1), "delivered": delivered, "busy_cores": busy}


def cpu_ticks() -> tuple[int, int] | None:
    """(all, idle) CPU ticks of the whole machine so far (Linux `/proc/stat`; None elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(ticks), ticks[3] + ticks[4]  # idle and iowait


def busy_cores(before, after) -> float | None:
    """How many of the machine's cores were busy between two `cpu_ticks` (workers, PostgreSQL
    and anything else running): one worker's figure bounds what several can gain here."""
    if before is None or after is None or after[0] == before[0]:
        return None
    every, idle = after[0] - before[0], after[1] - before[1]
    return round((os.cpu_count() or 1) * (every - idle) / every, 2)


def gains(runs: list[dict]) -> list[dict]:
    """Per number of mailboxes: three workers against one, and the most that the machine's
    cores allow (its cores / the cores one worker kept busy)."""
    found = []
    for boxes in dict.fromkeys(r["mailboxes"] for r in runs):
        one = next(r for r in runs if r["mailboxes"] == boxes and r["workers"] == 1)
        three = next(r for r in runs if r["mailboxes"] == boxes and r["workers"] == 3)
        ceiling = round((os.cpu_count() or 1) / one["busy_cores"], 2) if one.get("busy_cores") else None
        found.append({"mailboxes": boxes, "gain": round(three["per_s"] / one["per_s"], 2), "cores": os.cpu_count(),
                      "ceiling_here": ceiling})
    return found


# --- 3. memory -------------------------------------------------------------------------------------
# A small parent for the measured process: the kernel starts a child's peak-RSS count at the
# size of the process it was forked from, so the benchmark itself (hundreds of MB by now)
# must not be that parent.
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def peak_rss_mb(work: Path, count: int, models: Path) -> tuple[float, float]:
    """Peak RSS (MB) of one `bvhk-triage poll` process over `count` messages, and its seconds."""
    folder = work / f"memory-{count}"
    folder.mkdir()
    config = config_for(folder, url=f"sqlite:///{folder / 'db.sqlite3'}", boxes=3, models=models)
    spread(folder, sample_messages(count, tag=f"mem{count}"), 3)
    measured = folder / "maxrss"
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", LAUNCHER, str(measured), str(BIN), "--config", str(config),
                             "poll", "--json"], capture_output=True, check=True).stdout
    seconds = time.perf_counter() - started
    assert json.loads(output)["fetched"] == count, output[:300]
    peak = int(measured.read_text())
    shutil.rmtree(folder)
    return round(peak / 1024, 1), round(seconds, 2)  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="SQLite run and parsing (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="SQLite runs; the median counts (default 3)")
    parser.add_argument("--pg-messages", type=int, default=3000, help="PostgreSQL runs (default 3000)")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--memory-messages", type=int, default=10000)
    parser.add_argument("--parts", nargs="+", choices=("sqlite", "postgresql", "memory"),
                        default=["sqlite", "postgresql", "memory"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bvhk-bench-throughput-"))
    results: dict = {}
    try:
        models = train(work)
        if "sqlite" in args.parts:
            results["sqlite"] = sqlite_against_parsing(work, args.messages, args.runs, models)
        if "postgresql" in args.parts:
            try:
                results["postgresql"] = [postgres_run(work, args.pg_messages, n, models, args.pg_admin, boxes=boxes)
                                         for boxes in (6, 1) for n in (1, 3)]
                results["postgresql_gains"] = gains(results["postgresql"])
            except Exception as exc:  # no server: say so, measure the rest
                results["postgresql"] = f"not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        if "memory" in args.parts:
            busy, busy_s = peak_rss_mb(work, args.memory_messages, models)
            idle, idle_s = peak_rss_mb(work, 0, models)
            results["memory"] = {"messages": args.memory_messages, "peak_rss_mb": busy, "seconds": busy_s,
                                 "idle_peak_rss_mb": idle, "process_startup_s": idle_s}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    if "sqlite" in results:
        s = results["sqlite"]
        print(f"throughput, Maildir to outbox ({s['messages']} sample messages, median of {s['runs']})")
        print(f"  SQLite, one process:  {s['end_to_end_per_s']:>8} messages/s")
        print(f"  bare email parsing:   {s['bare_parse_per_s']:>8} messages/s  (parse and get_body)")
        print(f"  ratio:                {s['ratio']:>8}  (end to end / bare parsing)")
        print(f"  the parse alone:      {s['parse_only_per_s']:>8} messages/s, ratio {s['ratio_to_parse_only']}")
    pg = results.get("postgresql")
    if isinstance(pg, list):
        for r in pg:
            print(f"  PostgreSQL, {r['workers']} worker(s), {r['mailboxes']} mailbox(es): {r['per_s']:>6} messages/s  "
                  f"({r['messages']} messages in {r['seconds']} s, {r['busy_cores']} cores busy)")
        for g in results["postgresql_gains"]:
            print(f"  three workers against one, {g['mailboxes']} mailbox(es): {g['gain']}x  (at most "
                  f"{g['ceiling_here']}x on this machine's {g['cores']} cores, by the cores one worker kept busy)")
    elif pg:
        print(f"  PostgreSQL: {pg}")
    if "memory" in results:
        m = results["memory"]
        print(f"peak memory of a poll process: {m['peak_rss_mb']} MB over {m['messages']} messages in "
              f"{m['seconds']} s ({m['idle_peak_rss_mb']} MB polling an empty mailbox, which takes "
              f"{m['process_startup_s']} s: the start-up, not in the rates above)")

if __name__ == "__main__":
    main()
