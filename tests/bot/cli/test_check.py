"""`check --offline` loads what the worker would load: a broken model is an error, not an ok."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli.commands import main
from classifiers import ModelStore
from tests.paths import FIXTURES


def write_config(tmp_path, models):
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                    f'[classifier]\nmodels = "{models}"\n'
                    f'[routing]\ncontacts = "{FIXTURES / "e2e" / "contacts.csv"}"\n', encoding="utf-8")
    return path


def test_an_intact_model_is_loaded(tmp_path, models):
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, models)), "check", "--offline"])
    assert result.exit_code == 0, result.output
    version = ModelStore(models).active_version()
    assert f"ok    model {version} geladen" in result.output.splitlines()


def test_a_damaged_model_file_fails_the_offline_check(tmp_path, models):
    for model_file in models.glob("*/model.skops"):
        model_file.write_bytes(model_file.read_bytes()[:-10] + b"0123456789")
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, models)), "check", "--offline"])
    assert result.exit_code == 1
    assert any(line.startswith("FOUT  model: ") and "sha256" in line for line in result.output.splitlines())
