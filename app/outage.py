"""Database outages as the service lives them: bounded waits, a 503, one log line per episode.

Every database call made for a request goes through `DatabaseGuard.call`: it runs in a worker
thread and is awaited at most `timeout` seconds (a hung server never answers, and a statement
timeout is of no help when the server is stopped), and any failure becomes a 503 problem with
Retry-After. The log gets one line when an outage begins and one when it ends, not a traceback
per request or per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from app.errors import ServiceUnavailableError

logger = logging.getLogger("app.database")
T = TypeVar("T")


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database failed or did not answer in time: retry later."""


class OutageLog:
    """Logs the start and the end of each outage, and counts the failures in between."""

    def __init__(self) -> None:
        self.failing_since: float | None = None
        self.failures = 0

    def failed(self, reason: str) -> None:
        # Imported here: `monograph serve` must set the metrics folder before prometheus_client
        # is first imported, and the command imports this module early (through the catalog).
        from app.metrics import DATABASE_ERRORS

        DATABASE_ERRORS.labels("request").inc()
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            logger.error("database unavailable: %s; answering 503 until it recovers", reason)

    def recovered(self) -> None:
        if self.failing_since is not None:
            lasted = time.monotonic() - self.failing_since
            logger.warning(
                "database available again after %.1f s (%d failed calls)", lasted, self.failures
            )
            self.failing_since, self.failures = None, 0


class DatabaseGuard:
    def __init__(self, timeout: float, retry_after: int):
        self.timeout = timeout
        self.retry_after = retry_after
        self.outage = OutageLog()

    async def call(self, function: Callable[..., T], *args: object) -> T:
        """`function(*args)` in a thread, within the timeout; a DatabaseUnavailableError if not."""
        try:
            result = await asyncio.wait_for(asyncio.to_thread(function, *args), self.timeout)
        except TimeoutError:
            self.outage.failed(f"no answer within {self.timeout:g} s")
            raise self.unavailable() from None
        except SQLAlchemyError as error:
            self.outage.failed(describe(error))
            raise self.unavailable() from error
        self.outage.recovered()
        return result

    def unavailable(self) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            "The database does not answer; retry later.", retry_after=self.retry_after
        )


def describe(error: BaseException) -> str:
    """The driver's first line, without the SQL and the traceback that follow it."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else "unknown error"
