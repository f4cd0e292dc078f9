"""Server time of the web console's /backlog over 50,000 questions (not a test).

    .venv/bin/python bench/web.py [--questions 50000] [--runs 40] [--json]

A year of generated history (tests/bot/history.py: most questions answered, a few thousand
open) in SQLite; an admin and an IND coordinator signed in through the real /login. Each
request goes through the whole application in this process (Starlette's TestClient: routing,
session, scope, queries, rendering), so the time is the server's, without a network. Beside
it, in the same run, the same open questions through `backlog --json`'s code path
(`backlog_rows` and the JSON dump). Medians and 95th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.backlog.listing import backlog_rows  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.accounts import add  # noqa: E402
from storage.db import open_database, unit_of_work  # noqa: E402
from tests.bot.history import fill_history  # noqa: E402

PASSWORD = "een-wachtwoord-voor-de-bench"


def timed(call, runs: int) -> dict:
    call()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}


def measure(questions: int, runs: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient
    from bot.web.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.model_validate({
            "storage": {"url": f"sqlite:///{folder}/bench.sqlite3"},
            "mailboxes": [{"kind": "maildir", "name": name, "organisation": org, "address": f"bvhk@{name}.example",
                           "path": folder} for name, org in (("ind", "IND"), ("dtv", "DT&V"), ("rvdk", "RvdK"))],
            "routing": {"contacts": str(ROOT / "bot" / "sample" / "contacts.csv")},
        })
        engine = open_database(settings.storage.url)
        started = time.perf_counter()
        fill_history(engine, questions=questions, weeks=52, end=datetime(2026, 11, 30, 8, tzinfo=timezone.utc))
        filled = time.perf_counter() - started
        with unit_of_work(engine) as session:
            add(session, username="beheer", role="admin", password=PASSWORD)
            add(session, username="coord-ind", role="coordinator", organisation="IND", password=PASSWORD)
        today = datetime(2026, 11, 30).date()
        open_rows = len(backlog_rows(engine, overdue=False, today=today))
        results = {"questions": questions, "open": open_rows, "fill_seconds": round(filled, 1)}
        app = create_app(settings, engine=engine)
        for username in ("beheer", "coord-ind"):
            client = TestClient(app)
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
            assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token},
                               follow_redirects=False).status_code == 303
            for name, path in (("backlog", "/backlog"), ("theme filter", "/backlog?theme=voogdij"),
                               ("page 10", "/backlog?page=10"), ("overdue", "/backlog?overdue=1&sort=received")):
                def get(path=path):
                    assert client.get(path).status_code == 200
                results[f"{username} {name}"] = timed(get, runs)
        results["backlog --json (all open)"] = timed(
            lambda: json.dumps(backlog_rows(engine, overdue=False, today=today), ensure_ascii=False), runs)
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.questions, args.runs)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
