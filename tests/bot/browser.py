"""Rendering an HTML file in headless Chromium (Debian's `chromium`): the screenshot is kept
under test-output/ for a person to look at, and console messages count as errors."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.paths import ROOT
TEST_OUTPUT = ROOT / "test-output"


def screenshot(html: Path, name: str, require_server) -> tuple[Path, list[str]]:
    """Render `html`; returns the screenshot (test-output/NAME.png) and the console lines."""
    chromium = shutil.which("chromium")
    if chromium is None:
        require_server("chromium", "no chromium on PATH (apt-get install chromium)")
    TEST_OUTPUT.mkdir(exist_ok=True)
    shot = TEST_OUTPUT / f"{name}.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,2000",
             "--enable-logging=stderr", "--v=0", html.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines()
               if ":CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]
    return shot, console
