"""`bvhk-triage run` with [web] in_run = true serves the console beside the worker, and stops
both cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.paths import ROOT, SAMPLE
from tests.servers import spare_port, wait_for_port

pytestmark = pytest.mark.server


def test_run_serves_the_console_too(tmp_path, models):
    port = spare_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
        f'[privacy]\ndeidentify = "patterns"\n'
        f'[classifier]\nmodels = "{models}"\ntraining_data = "{SAMPLE / "labelled.jsonl"}"\n'
        f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
        f'[web]\nin_run = true\nport = {port}\n', "utf-8")
    env = {**os.environ, "BVHK_WEB_SECRET": "sleutel-voor-de-run-test-0123456789"}
    worker = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_port(port, timeout=120), worker.stderr.read() if worker.poll() is not None else "no console"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as answer:
            assert answer.status == 200 and "Aanmelden" in answer.read().decode()
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err[-2000:]
    assert "web console on" in err and "Traceback" not in err
