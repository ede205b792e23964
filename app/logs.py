"""Logging for the `app` namespace, configured once: one JSON object a line on stderr.

Every logger of the service is a child of `app` (`logging.getLogger(__name__)`), so one handler
here shows start-up, dataset swaps, database failures, seed results and unexpected errors beside
the access log, whatever logging uvicorn set up for its own loggers.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

ACCESS_LOGGER = "app.access"


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record; access records are already one (app/middleware.py)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == ACCESS_LOGGER:
            return record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


class _AppHandler(logging.StreamHandler[TextIO]):
    """The one handler of the `app` namespace (a type of its own, so it is added once)."""


def configure_logging(level: str = "info", access_log: bool = True) -> None:
    """Send the `app` namespace to stderr as JSON lines; idempotent: each entry point calls it."""
    root = logging.getLogger("app")
    root.setLevel(level.upper())
    if not any(isinstance(handler, _AppHandler) for handler in root.handlers):
        handler = _AppHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        root.addHandler(handler)
    # Not also to the root logger: a host application's handlers would print every line twice.
    root.propagate = False
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)
