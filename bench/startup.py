"""Benchmark: one-off commands timed as a user runs them, whole process (not a test).

    .venv/bin/python bench/startup.py [--runs 5] [--json]

In a temporary folder: `bvhk-triage init`, the sample's labelled questions as training data,
`train`, then each command `--runs` times, wall clock from start to exit of the process:
- `classify` on one sample mail (parse, screen, classify, locate, route; nothing stored);
- `backlog` on the (empty) database;
- `check --offline` (configuration, rules, contacts, the model loaded and checked);
- `python -c pass` of the same interpreter, the floor under all of them.
Median and the fastest run. None of them imports scikit-learn or skops: `classify` loads the
model's arrays (`classifiers.predictor`) (bench figures in the issue notes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("bvhk-triage")
SAMPLE = ROOT / "bot" / "sample"


def wall(command: list[str], cwd: Path, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    mail = next(path for path in sorted((SAMPLE / "mailbox").rglob("*")) if path.is_file() and ":2," in path.name)
    folder = Path(tempfile.mkdtemp(prefix="bvhk-startup-"))
    try:
        subprocess.run([str(BIN), "init", str(folder)], check=True, capture_output=True)
        shutil.copyfile(SAMPLE / "labelled.jsonl", folder / "labelled.jsonl")
        config = folder / "config.toml"
        config.write_text(config.read_text("utf-8").replace('# training_data = "labelled.jsonl"',
                                                            'training_data = "labelled.jsonl"'), "utf-8")
        cli = [str(BIN), "--config", str(config)]
        subprocess.run([*cli, "train"], cwd=folder, check=True, capture_output=True)
        commands = {"classify": [*cli, "classify", str(mail)], "backlog": [*cli, "backlog"],
                    "check --offline": [*cli, "check", "--offline"], "python -c pass": [sys.executable, "-c", "pass"]}
        results = {}
        for name, command in commands.items():
            seconds = wall(command, folder, args.runs)
            results[name] = {"median_s": round(statistics.median(seconds), 2), "fastest_s": round(min(seconds), 2)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps({"runs": args.runs, "commands": results}, indent=2))
        return 0
    print(f"{'command':<18} {'median s':>9} {'fastest s':>10}   (whole process, {args.runs} runs)")
    for name, row in results.items():
        print(f"{name:<18} {row['median_s']:>9} {row['fastest_s']:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
