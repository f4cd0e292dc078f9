"""`check --offline` loads what the worker would load: a broken model is an error, not an ok;
it does not load deduce, and it starts without scikit-learn."""

from __future__ import annotations

import subprocess
import sys

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


def test_offline_check_finds_deduce_installed_without_loading_it(tmp_path, models):
    # Loading deduce takes seconds and 1.2 GB; --offline only finds it installed, as it
    # only names the mailboxes it does not connect to. A fresh process shows what it loads.
    config = write_config(tmp_path, models)
    probe = ("import sys; from click.testing import CliRunner; from bot.cli.commands import main; "
             f"r = CliRunner().invoke(main, ['--config', {str(config)!r}, 'check', '--offline']); "
             "print(r.output); print('deduce' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert "ok    namen zonder aanwijzing: deduce geïnstalleerd (niet geladen: --offline)" in lines, result.stdout
    assert lines[-1] == "False"


def test_commands_that_need_no_model_start_without_scikit_learn():
    # `backlog` and `check --offline` start in a fraction of a second more than Python;
    # scikit-learn (and skops, which imports it all) is imported where a model is loaded.
    probe = "import sys, bot.cli.commands; print(sorted(m for m in ('sklearn', 'skops', 'deduce') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_classify_and_the_offline_check_load_the_model_without_scikit_learn(tmp_path, models):
    # Both load the model as the worker does, from its arrays (`classifiers.predictor`):
    # importing scikit-learn and skops took longer than the rest of `classify`. A fresh
    # process shows what they load, and that `classify` still decides a theme with it.
    config = write_config(tmp_path, models)
    mail = next(p for p in sorted((FIXTURES.parent.parent / "bot" / "sample" / "mailbox").rglob("*"))
                if p.is_file() and ":2," in p.name)
    probe = ("import sys, json; from click.testing import CliRunner; from bot.cli.commands import main; "
             f"c = CliRunner().invoke(main, ['--config', {str(config)!r}, 'classify', '--json', {str(mail)!r}]); "
             f"o = CliRunner().invoke(main, ['--config', {str(config)!r}, 'check', '--offline']); "
             "print(json.loads(c.output)['theme']['label'] is not None, o.exit_code); "
             "print(sorted(m for m in ('sklearn', 'skops') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines()[-2:] == ["True 0", "[]"], result.stdout + result.stderr
