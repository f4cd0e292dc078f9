"""Shared test helpers. Tests mirror the packages: tests/bot, tests/classifiers, tests/rules, tests/storage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "bot" / "sample"
FIXTURES = ROOT / "tests" / "fixtures"


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
