"""Benchmark: where the time of one poll goes, in ms per mail by stage (not a test).

    .venv/bin/python bench/stages.py [--messages 1000] [--runs 3] [--json]

The SQLite poll of `bench/throughput.py` (a Maildir to the outbox, in one process), with a
clock around the stages named in STAGES: each is wrapped where the worker calls it, and its
wall time is summed over the poll. A stage's time includes the stages it calls (storing
includes composing the forward). Median of `--runs`, each on a fresh database and outbox.

A profiler is no substitute: cProfile charges each Python call, so code that makes many small
calls (the regex parser, redaction) looks several times slower than it is. The wrappers here
cost a microsecond a call.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import sample_messages, sqlite_run, train  # noqa: E402

# (label, the module in which the worker looks the name up when it calls it, name), in the
# order a mail meets them
STAGES = (
    ("parse and predict, per batch", "bot.service.worker", "_prepare"),
    ("— parse", "bot.triage.pipeline", "parse_message"),
    ("triage of one item, its transaction", "bot.service.worker", "_triage_one"),
    ("— screen, locate, route", "bot.service.worker", "triage_message"),
    ("— store", "bot.service.worker", "record_triage"),
    ("— — redact", "bot.backlog.record", "redact_question"),
    ("— — compose the forward", "bot.backlog.record", "forward"),
    ("— take it off the queue", "storage.repo", "unqueue"),
    ("send", "bot.service.worker", "send_pending"),
)


@contextmanager
def clocked(spent: Counter):
    """Wrap every stage of STAGES, summing its wall time into `spent`; unwrapped after."""
    undo = []
    for label, module_name, name in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        undo.append((module, name, original))
        setattr(module, name, _timed(original, label, spent))
    try:
        yield
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def _timed(function, label: str, spent: Counter):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started
    return timed


def one_poll(work: Path, messages: list[tuple[str, bytes]], models: Path, n: int) -> dict[str, float]:
    """`throughput.sqlite_run` with the stages clocked: ms per mail by stage, and for the whole poll."""
    spent: Counter = Counter()
    with clocked(spent):
        seconds, _ = sqlite_run(work, messages, models, n)
    spent["whole poll"] = seconds
    return {label: 1000 * total / len(messages) for label, total in spent.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bvhk-bench-stages-") as tmp:
        work = Path(tmp)
        models = train(work)
        messages = sample_messages(args.messages, tag="stages")
        runs = [one_poll(work, messages, models, n) for n in range(args.runs)]
    labels = ["whole poll", *(label for label, _, _ in STAGES)]
    result = {"messages": args.messages, "runs": args.runs,
              "ms_per_mail": {label: round(statistics.median(run.get(label, 0.0) for run in runs), 2)
                              for label in labels}}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"one SQLite poll of {args.messages} messages, median of {args.runs} runs: ms per mail")
        for label, ms in result["ms_per_mail"].items():
            print(f"  {label:40s} {ms:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
