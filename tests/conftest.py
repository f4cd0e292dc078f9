"""Shared test helpers. Tests mirror the packages: tests/bot, tests/classifiers, tests/rules, tests/storage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
