"""Benchmark of the weekly report and the digests over a year of history (not a test).

    .venv/bin/python bench/report.py [--questions 50000] [--runs 5] [--json]

Generates `--questions` questions over 52 weeks into a temporary SQLite database (the
generator of the tests, tests/bot/history.py: three organisations, their regions, ten
themes, review, reassignment, answered and stuck questions, audit entries), then times:
- the report: reading the database, counting, four charts (PNG), HTML, text and the Excel
  workbook written to a folder (`bot.reports.weekly.write_report`), median of `--runs` runs;
- the digests: every coordinator's digest as HTML and text (`bot.reports.digest.write_digests`).
Peak memory: each measured step runs once more in a forked child process, whose peak
resident size (`resource.getrusage`) minus its size at the start is the figure reported.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.reports.digest import write_digests  # noqa: E402
from bot.reports.files import write_report  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.bot.history import fill_history  # noqa: E402


def _peak_child(step, conn) -> None:
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step()
    conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start)


def peak_mib(step) -> float:
    """Peak resident memory (MiB) that `step` adds, measured in a forked child."""
    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=_peak_child, args=(step, child))
    process.start()
    kib = parent.recv()
    process.join()
    return round(kib / 1024, 1)


def timed(step, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        settings = Settings.model_validate({"storage": {"url": f"sqlite:///{work / 'bench.sqlite3'}"}})
        engine = open_database(settings.storage.url)
        end = datetime(2025, 4, 9, 6, 30, tzinfo=timezone.utc)
        started = time.perf_counter()
        fill_history(engine, questions=args.questions, weeks=52, end=end)
        generated = time.perf_counter() - started
        today = end.date()

        def report() -> None:
            write_report(settings, engine, work / "report", today=today)

        def digests() -> None:
            write_digests(settings, engine, work / "digest", today=today)

        report()  # warm up: imports, font cache, templates
        report_seconds = timed(report, args.runs)
        digest_seconds = timed(digests, args.runs)
        engine.dispose()
        figures = {
            "questions": args.questions,
            "weeks": 52,
            "generate_seconds": round(generated, 2),
            "runs": args.runs,
            "report_median_seconds": round(statistics.median(report_seconds), 3),
            "report_max_seconds": round(max(report_seconds), 3),
            "report_peak_mib": peak_mib(report),
            "digest_median_seconds": round(statistics.median(digest_seconds), 3),
            "digest_peak_mib": peak_mib(digests),
            "python": sys.version.split()[0],
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['questions']:,} questions over 52 weeks (generated in {figures['generate_seconds']} s)")
    print(f"report  median {figures['report_median_seconds']} s (max {figures['report_max_seconds']} s, "
          f"{args.runs} runs), peak memory +{figures['report_peak_mib']} MiB")
    print(f"digests median {figures['digest_median_seconds']} s, peak memory +{figures['digest_peak_mib']} MiB")


if __name__ == "__main__":
    main()
