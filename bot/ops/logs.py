"""This module contains the JSON log format (``SPORTELLO_LOG_FORMAT=json``) and the web
server's access log without secrets.

One JSON object a line, with the same content as the text format: the project's log
messages never carry names, phone numbers or what users write, so neither does this.
The access log (one line a request, uvicorn's) keeps the path but never a query string: the
calendar link of an appointment (``/calendar/<code>.ics?k=<key>``) works for whoever has
it, so neither its key nor its booking code is written.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

#: The logger uvicorn writes one line a request to, with the path as its third argument.
ACCESS_LOGGER = "uvicorn.access"
_CALENDAR_PATH = re.compile(r"^/calendar/[^/]*\.ics$")


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


def redact_path(path: str) -> str:
    """A request's path as the access log may keep it: no query string, no booking code."""
    path = path.split("?", 1)[0]
    return "/calendar/<code>.ics" if _CALENDAR_PATH.match(path) else path


class AccessLogRedactor(logging.Filter):
    """Rewrites uvicorn's access lines (client, method, path, version, status) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Make the access log keep no query string (once, after uvicorn configured its logging)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, AccessLogRedactor) for existing in access.filters):
        access.addFilter(AccessLogRedactor())
