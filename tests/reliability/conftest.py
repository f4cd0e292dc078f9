"""Fixtures of the reliability tests (the trained model comes from tests/conftest.py)."""

from __future__ import annotations


import pytest

from tests.reliability.harness import SmtpSink


@pytest.fixture
def smtp_sink(require_server) -> SmtpSink:
    """An SMTP server on 127.0.0.1 that records what it accepts; the test may stop and restart it."""
    sink = SmtpSink()
    try:
        sink.start()
    except Exception as exc:  # aiosmtpd missing, or no port
        require_server("aiosmtpd SMTP server", f"{type(exc).__name__}: {exc}")
    yield sink
    sink.stop()
