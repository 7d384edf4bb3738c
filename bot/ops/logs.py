"""This module contains the JSON log format (``SPORTELLO_LOG_FORMAT=json``).

One JSON object a line, with the same content as the text format: the project's log
messages never carry names, phone numbers or what users write, so neither does this.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}``, plus ``"error"`` with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs() -> None:
    """Switch every handler of the root logger to JSON (called once, at start)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
