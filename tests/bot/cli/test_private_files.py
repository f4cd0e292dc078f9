"""What the product writes is private to its user: files 0600 and folders 0700, whatever the
umask of the shell or service it is started from, and the caller's umask is left as it was."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import main
from tests.paths import FIXTURES, SAMPLE


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in root.rglob("*")}


def test_init_and_a_poll_write_nothing_others_can_read(tmp_path, loose_umask):
    work = tmp_path / "work"
    result = CliRunner().invoke(main, ["init", str(work / "conf")])
    assert result.exit_code == 0, result.output
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.1.test").write_bytes((FIXTURES / "e2e" / "01-vraag-ots.eml").read_bytes())
    config = work / "config.toml"
    config.write_text(f"""
[storage]
url = "sqlite:///{work / 'db.sqlite3'}"
[[mailboxes]]
name = "ind"
organisation = "IND"
address = "bvhk@ind.example"
kind = "maildir"
path = "{maildir}"
[delivery]
kind = "outbox"
path = "{work / 'outbox'}"
[routing]
contacts = "{FIXTURES / 'e2e' / 'contacts.csv'}"
[classifier]
models = "{work / 'models'}"
training_data = "{SAMPLE / 'labelled.jsonl'}"
""", encoding="utf-8")
    config.chmod(0o600)
    result = CliRunner().invoke(main, ["--config", str(config), "poll", "--json"])
    assert result.exit_code == 0, result.output
    assert os.umask(0o022) == 0o022  # the CLI gave the caller's umask back
    written = modes(work)
    assert any(name.startswith("outbox/") and "/new/" in name for name in written)
    assert any(name.startswith("models/") for name in written) and "db.sqlite3" in written
    assert any(name.startswith("conf/rules/") for name in written)
    for name, mode in written.items():
        expected = "0o700" if (work / name).is_dir() else "0o600"
        assert mode == expected, (name, mode)
