"""Logging: plain or JSON lines on stderr. Log lines name ids and counts, never personal data.

No log call in the product passes a subject, an address or message text; ids (triage id,
mailbox item id) and counts are enough to find anything in the database.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["error"] = record.exc_info[0].__name__
        return json.dumps(document, ensure_ascii=False)


def setup_logging(*, json_lines: bool = False, debug: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for noisy in ("apscheduler", "alembic", "httpx", "exchangelib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
