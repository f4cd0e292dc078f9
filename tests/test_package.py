"""What a user installs: the wheel alone, with no checkout on the path, runs `init`,
`check --offline` and `demo`.

The wheel is built from the checkout and installed into a fresh virtual environment that
reaches the test environment's libraries through a .pth file (installing them all from PyPI
again would take minutes); the checkout's own editable install is not reachable that way,
which the test asserts."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.paths import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(work / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (work / "dist").glob("bvhk_triage-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/config.example.toml" in names and "rules/data/themes.toml" in names
    assert not any(name.startswith(("tools/", "tests/")) or name.endswith("generate.py") for name in names)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "test-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return python


def run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_the_installed_package_is_the_one_that_runs(installed, tmp_path):
    where = subprocess.run([str(installed), "-c", "import bot, rules; print(bot.__file__); print(rules.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    site = str(installed.parent.parent)
    assert all(path.startswith(site) for path in where), where
    assert not any(path.startswith(str(ROOT)) for path in where)


def test_init_check_and_demo_from_the_wheel(installed, tmp_path):
    conf = tmp_path / "conf"
    init = run(installed, tmp_path, "init", str(conf))
    assert init.returncode == 0, init.stderr
    assert (conf / "config.toml").read_text(encoding="utf-8") == (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert (conf / "rules" / "themes.toml").is_file() and (conf / "contacts.csv").is_file()
    check = run(installed, tmp_path, "--config", str(conf / "config.toml"), "check", "--offline")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Traceback" not in check.stdout + check.stderr
    demo = run(installed, tmp_path, "demo", "--out", str(tmp_path / "demo"), "--json")
    assert demo.returncode == 0, demo.stderr[-2000:]
    summary = json.loads(demo.stdout)
    assert summary["questions"] > 400 and summary["this_run"]["delivered"] > 400
    assert (tmp_path / "demo" / "rapport").is_dir()


def test_the_console_from_the_wheel(installed, tmp_path):
    import urllib.request

    from tests.servers import spare_port, wait_for_port

    conf = tmp_path / "conf"
    assert run(installed, tmp_path, "init", str(conf)).returncode == 0
    config = str(conf / "config.toml")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WACHTWOORD": "een-goed-wachtwoord",
           "BVHK_WEB_SECRET": "sleutel-van-de-pakkettest-0123456789"}
    added = subprocess.run([str(installed), "-m", "bot", "--config", config, "users", "add", "beheer", "--role", "admin",
                            "--password-env", "WACHTWOORD"], cwd=tmp_path, capture_output=True, text=True, env=env,
                           timeout=120)
    assert added.returncode == 0, added.stderr
    port = spare_port()
    server = subprocess.Popen([str(installed), "-m", "bot", "--config", config, "web", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_port(port, timeout=60), server.stderr.read() if server.poll() is not None else "no port"
        for path in ("/login", "/static/console.css", "/static/htmx.min.js"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
                assert answer.status == 200, path
                assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    finally:
        server.terminate()
        server.wait(timeout=30)
