"""Logging: the product's routine events at INFO, other libraries only when something is wrong."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.service.logs import setup_logging


@pytest.fixture
def captured(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("bot", "httpx", "exchangelib")})
    import bot.ingest.mailboxes.ews  # noqa: F401  (silences exchangelib, as running the product does)

    setup_logging(json_lines=True)
    yield stream
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_routine_events_are_info_and_libraries_speak_only_when_something_is_wrong(captured):
    logging.getLogger("bot.service.scheduler").info("poll: fetched=3")
    logging.getLogger("bot.service.worker").debug("not shown without --debug")
    logging.getLogger("httpx").info("HTTP Request: GET https://graph.example/v1.0/me \"200 OK\"")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("httpx").warning("retrying")
    logging.getLogger("exchangelib.services").error("<soap:Envelope>mail of a child</soap:Envelope>")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("info", "bot.service.scheduler", "poll: fetched=3"),
        ("warning", "httpx", "retrying"),
    ]
