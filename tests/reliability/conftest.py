"""Fixtures of the reliability tests: one trained model for the session, a work folder per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.reliability.harness import SAMPLE


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """A model trained once on the sample's labelled questions (training is what takes time)."""
    models = tmp_path_factory.mktemp("reliability-models")
    workdir = tmp_path_factory.mktemp("reliability-train")
    config = workdir / "config.toml"
    config.write_text(
        f'[classifier]\nmodels = "{models}"\ntraining_data = "{SAMPLE / "labelled.jsonl"}"\n'
        f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
        f'[storage]\nurl = "sqlite:///{workdir / "db.sqlite3"}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(config), "train", "--json"])
    assert result.exit_code == 0, result.output
    return models


@pytest.fixture
def models(tmp_path, trained_models) -> Path:
    """This test's copy of the trained model."""
    target = tmp_path / "models"
    shutil.copytree(trained_models, target)
    return target
