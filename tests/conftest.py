"""Shared test helpers. Tests mirror the packages: tests/bot, tests/classifiers, tests/rules, tests/storage."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]

from tests.paths import FIXTURES, ROOT, SAMPLE, SHARED  # noqa: F401  (re-exported for the tests)


def server_unavailable(what: str, why: str) -> None:
    """Skip a test whose server cannot be started; under CI=true, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} could not be started under CI=true: {why}")
    pytest.skip(f"{what} not available: {why}")


@pytest.fixture
def require_server():
    """`require_server(what, why)`: skip (or, under CI=true, fail) when a server cannot start."""
    return server_unavailable


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database on the local server for one test, dropped afterwards."""
    import uuid

    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/test"
    name = f"bvhk_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        server_unavailable("PostgreSQL at 127.0.0.1:5432", str(exc).splitlines()[0])
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """A model trained once per test session on the sample's labelled questions."""
    from click.testing import CliRunner

    from bot.cli.commands import main

    models = tmp_path_factory.mktemp("models")
    workdir = tmp_path_factory.mktemp("train")
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
    """This test's own copy of the trained model, at tmp_path/models."""
    target = tmp_path / "models"
    shutil.copytree(trained_models, target)
    return target


@pytest.fixture(autouse=True)
def _names_found_by_patterns_unless_asked():
    """A command run in-process configures de-identification from its settings (deduce by
    default) for the whole process; every test starts from the patterns again, so that no
    test depends on which ran before it."""
    from classifiers import deidentify

    yield
    deidentify.configure("patterns")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, dict]:
    """`bvhk-triage demo` run once per test session: its folder and its JSON summary. Tests that
    change its data work on a copy (`shutil.copytree`)."""
    import json

    from click.testing import CliRunner

    from bot.cli.commands import main

    out = tmp_path_factory.mktemp("demo")
    first = CliRunner().invoke(main, ["demo", "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    return out, json.loads(first.stdout)
