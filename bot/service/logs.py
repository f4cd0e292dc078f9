"""Logging: plain or JSON lines on stderr. Log lines name ids and counts, never personal data.

No log call in the product passes a subject, an address or message text; ids (triage id,
mailbox item id) and counts are enough to find anything in the database.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone


PRODUCT_LOGGERS = ("bot", "classifiers", "rules", "storage")


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
    # other libraries speak only when something needs attention (exchangelib not even then:
    # its errors quote whole SOAP bodies, mail included; bot.ingest.mailboxes.ews silences it)
    root.setLevel(logging.WARNING)
    for ours in PRODUCT_LOGGERS:  # the product's routine events (a poll's counts, a job done) at INFO
        logging.getLogger(ours).setLevel(logging.DEBUG if debug else logging.INFO)
