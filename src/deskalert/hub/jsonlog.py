"""`deskalert hub --log-format json`: one JSON object a line on stderr, for a SIEM.

Fields: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message` (the line as the
text format writes it, arguments put in), `exception` when there is one, and every extra the
call passed (`log.info("...", extra={"desk": "g1"})`), under its own name. An extra that is not
JSON is written as its `str()`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# What every LogRecord has: anything else on a record is an extra of the call.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
}


class JsonLines(logging.Formatter):
    """One log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in line:
                line[key] = value
        return json.dumps(line, ensure_ascii=False, default=str)


def use_log_format(log_format: str, level: str) -> None:
    """With "json", the root logger writes JSON lines to stderr from now on (set before the
    hub's own `configure_logging`, whose `basicConfig` then keeps this handler); "text": as is."""
    if log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
