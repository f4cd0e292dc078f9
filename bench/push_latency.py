"""Benchmark: arrival to forward with IMAP IDLE, while `run` polls only every 5 minutes (not a test).

    .venv/bin/python bench/push_latency.py [--messages 20] [--json]

Starts a private Dovecot and an SMTP sink (the servers of the tests), trains a model on the
sample, starts `bvhk-triage run` (poll_minutes = 5, push on), and then appends the sample's
mails to the inbox one at a time, each once the one before was handled; mails that are
not forwarded (automatic replies, bounces, review) are passed over. For each it
times from the APPEND to the forward's arrival at the SMTP server. Prints median and p95.
Goal (issue 16): median under 2 s, p95 under 5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.harness import (  # noqa: E402
    BIN,
    Database,
    SmtpSink,
    Worker,
    fill_imap,
    imap_box,
    sample_messages,
    wait_for,
    write_config,
)
from tests.servers import make_tls_files, start_dovecot  # noqa: E402

SAMPLE = ROOT / "bot" / "sample"


def forwarded_ids(sink: SmtpSink) -> set[str]:
    """The original Message-IDs of the forwards the sink has received."""
    return {line.split(b":", 1)[1].strip().decode()
            for received in list(sink.received) for line in received.data.splitlines()
            if line.lower().startswith(b"x-bvhk-triage-original:")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bvhk-push-") as tmp:
        folder = Path(tmp)
        server = start_dovecot(make_tls_files(folder))
        if isinstance(server, str):
            print(f"Dovecot did not start: {server}")
            return 1
        sink = SmtpSink().start()
        models = folder / "models"
        try:
            user = server.new_user()
            fill_imap(server, user, [])
            url = f"sqlite:///{folder / 'db.sqlite3'}"
            config = write_config(folder, url=url, models=models, smtp_port=sink.port,
                                  mailboxes=[imap_box("dtv", server, user)],
                                  schedule={"poll_seconds": 300, "push": True})
            subprocess.run([str(BIN), "--config", str(config), "train", "--data", str(SAMPLE / "labelled.jsonl")],
                           check=True, capture_output=True)
            db = Database(url)
            worker = Worker(config, folder / "worker.log").start()
            wait_for(lambda: worker.pid in db.heartbeat_pids(), timeout=120, what="the worker to start")
            time.sleep(3)  # the first scheduled poll and the watcher's first read are done
            latencies, skipped = [], 0
            for message_id, raw in sample_messages(args.messages * 3, tag="push"):
                if len(latencies) == args.messages:
                    break
                started = time.monotonic()
                server.append(user, [raw])
                wait_for(lambda: db.scalar("SELECT count(*) FROM question WHERE message_id = :m", m=message_id),
                         timeout=60, interval=0.01, what=f"{message_id} handled")
                if not db.scalar("SELECT count(*) FROM delivery d JOIN question q ON q.id = d.question_id "
                                 "WHERE q.message_id = :m", m=message_id):
                    skipped += 1  # an automatic reply, a bounce or a question for review: no forward
                    continue
                wait_for(lambda: message_id in forwarded_ids(sink), timeout=60, interval=0.01,
                         what=f"{message_id} forwarded")
                latencies.append(time.monotonic() - started)
            worker.stop()
            db.close()
        finally:
            sink.stop()
            server.stop()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    result = {"messages": len(latencies), "median_s": round(statistics.median(latencies), 3),
              "p95_s": round(p95, 3), "max_s": round(latencies[-1], 3), "poll_seconds": 300,
              "not_forwarded": skipped}
    print(json.dumps(result) if args.json else
          f"arrival to forward over IDLE, {result['messages']} messages, scheduled poll every 300 s: "
          f"median {result['median_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s "
          f"({skipped} appended mails were no question to forward and are not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
