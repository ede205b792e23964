"""The HTTP server's bounds on what one client can cost a worker (docs/hardening.md).

uvicorn's httptools protocol, made to refuse early: it has a keep-alive timeout but no bound on
the size or number of request headers, on the time a client may take to send them, on a request
body the API never reads, or on how many connections one worker holds open. This subclass adds
them, counting raw bytes before the parser buffers them, so a refusal costs one small response and
memory bounded by the limit, never by what the client sends. Refusals are logged, at most one line
per kind every few seconds with a count, so an attack cannot flood the log either.

It also sends each response's head together with its body, in one system call where uvicorn
makes two (HeadWithBodyTransport): on loopback under load, `send` was half of a worker's time.

`monograph serve` runs it as uvicorn's `http` protocol ("app.server:BoundedHttpProtocol").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.settings import Settings, get_settings

logger = logging.getLogger("app.server")

# File descriptors a worker keeps for itself beyond its client connections (database, logs...).
RESERVED_FILE_DESCRIPTORS = 64
# After a refusal, how long and how much more input is read and dropped before closing.
LINGER_SECONDS = 1.0
LINGER_MAX_BYTES = 1024 * 1024


def send_without_delay(transport: asyncio.Transport) -> None:
    """TCP_NODELAY on the connection, whatever made its socket.

    asyncio sets it only on sockets whose `proto` reads IPPROTO_TCP; the listening socket uvicorn
    binds for several workers says 0, so its connections kept Nagle's algorithm, and every
    response written in two parts waited for the client's delayed ACK: 40 ms a request."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HeadWithBodyTransport(asyncio.Transport):
    """The transport a response is written through, holding back the response's head until its
    first body write so that both leave in one `send` (uvicorn writes them apart: two system
    calls, two wake-ups of the client). An interim `100 Continue` is written at once.

    uvicorn's RequestResponseCycle uses `write`, `close` and `is_closing`; the rest delegates."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._head = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        if data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 100 "):
            self._flush()
            self._head = data
            return
        if self._head:
            data, self._head = self._head + data, b""
        if data:
            self._transport.write(data)

    def close(self) -> None:
        self._flush()  # a head without a body yet (an error mid-response) still goes out first
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def abort(self) -> None:
        self._transport.abort()

    def _flush(self) -> None:
        if self._head:
            self._transport.write(self._head)
            self._head = b""


@dataclass(frozen=True)
class Limits:
    max_head_bytes: int
    max_header_count: int
    max_request_line_bytes: int
    max_body_bytes: int
    head_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_head_bytes=settings.max_request_head_bytes,
            max_header_count=settings.max_request_headers,
            max_request_line_bytes=settings.max_request_line_bytes,
            max_body_bytes=settings.max_request_body_bytes,
            head_timeout=settings.request_head_timeout_seconds,
            max_connections=min(settings.max_connections_per_worker, connections_the_fds_allow()),
        )


@lru_cache
def current_limits() -> Limits:
    """The limits of this worker, read once (the settings and the fd limit do not change)."""
    return Limits.from_settings(get_settings())


class RefusalLog:
    """One warning per kind of refusal, then at most one line per `interval` with the count."""

    def __init__(self, interval: float = 10.0):
        self.interval = interval
        self.pending: dict[str, int] = {}
        self.last_logged: dict[str, float] = {}

    def record(self, reason: str) -> None:
        now = time.monotonic()
        self.pending[reason] = self.pending.get(reason, 0) + 1
        if now - self.last_logged.get(reason, -self.interval) >= self.interval:
            count = self.pending.pop(reason)
            self.last_logged[reason] = now
            suffix = f" ({count} since the last report)" if count > 1 else ""
            logger.warning("refused: %s%s", reason, suffix)


refusals = RefusalLog()
# This worker's connections still waiting for a complete request head, oldest first: the ones
# given up first when the worker is full (a dict keeps insertion order).
_waiting: dict[BoundedHttpProtocol, None] = {}


def _refusal_bytes(status: int, title: str, detail: str, retry_after: int | None = None) -> bytes:
    slug = _SLUGS.get(status, "refused")
    body = orjson.dumps(
        {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    )
    head = [
        f"HTTP/1.1 {status} {title}",
        f"content-type: {PROBLEM_MEDIA_TYPE}",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


_SLUGS = {
    408: "request-timeout",
    413: "content-too-large",
    414: "uri-too-long",
    431: "request-header-fields-too-large",
    503: "unavailable",
}


class _Refused(Exception):
    """Raised from a parser callback to stop parsing: the connection is being refused."""


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = current_limits()
        self.head_bytes = 0  # raw bytes received since the current request head began
        self.head_size = 0  # the request line and header fields parsed so far
        self.header_count = 0
        self.body_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False
        self.lingered = 0

    # ----- connection life --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        send_without_delay(transport)
        if len(self.connections) > self.limits.max_connections and not _evict_oldest_waiting():
            self.refuse(
                503,
                "Service Unavailable",
                "This worker holds as many connections as it may; retry in a moment.",
                "connection limit reached, every connection busy",
                retry_after=1,
            )
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self.head_bytes = self.head_size = self.header_count = self.body_bytes = 0
        _waiting[self] = None
        if self.head_timer is not None:
            self.head_timer.cancel()
        self.head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _head_arrived(self) -> None:
        _waiting.pop(self, None)
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.head_bytes == 0:  # an idle connection: nothing to answer
            _waiting.pop(self, None)
            self.transport.close()
            return
        detail = f"The request head must arrive within {self.limits.head_timeout:g} seconds."
        self.refuse(408, "Request Timeout", detail, "request head not complete in time")

    # ----- reading ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.refused:  # lingering: read and drop what the client still sends, for a while
            self.lingered += len(data)
            if self.lingered > LINGER_MAX_BYTES:
                self.transport.close()
            return
        if self.head_timer is not None:
            self.head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except _Refused:
            return
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Refused) or self.refused:
                return
            self._bad_request()
        except httptools.HttpParserError:
            self._bad_request()
        except httptools.HttpParserUpgrade:
            self._bad_request()
        else:
            if self.head_timer is not None and self.head_bytes > self.limits.max_head_bytes:
                self._head_too_large()

    def _bad_request(self) -> None:
        self.refuse(400, "Bad Request", "The request is not valid HTTP/1.1.", "malformed request")

    def _head_too_large(self) -> None:
        limit = self.limits.max_head_bytes
        detail = f"The request line and headers may have at most {limit} bytes."
        self.refuse(
            431, "Request Header Fields Too Large", detail, "request head too large", stop=True
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_timer is None:  # a pipelined request: its head is being read now
            self._await_head()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self.head_size += len(url)
        if len(self.url) > self.limits.max_request_line_bytes:
            limit = self.limits.max_request_line_bytes
            detail = f"The request target may have at most {limit} bytes."
            self.refuse(414, "URI Too Long", detail, "request line too long", stop=True)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > self.limits.max_header_count:
            detail = f"A request may have at most {self.limits.max_header_count} header fields."
            self.refuse(
                431, "Request Header Fields Too Large", detail, "too many headers", stop=True
            )
        self.head_size += len(name) + len(value) + 4
        if self.head_size > self.limits.max_head_bytes:
            self._head_too_large()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_arrived()
        length = dict(self.headers).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limits.max_body_bytes:
            self._body_too_large()
        previous = self.cycle
        super().on_headers_complete()
        # Before the cycle's task first runs (it was only scheduled): it writes through this. Not
        # for HEAD, whose response uvicorn ends without a body write to send the head along.
        cycle = self.cycle
        if cycle is not None and cycle is not previous and cycle.scope["method"] != "HEAD":
            cycle.transport = HeadWithBodyTransport(self.transport)

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        if self.body_bytes > self.limits.max_body_bytes:
            self._body_too_large()
        super().on_body(body)

    def _body_too_large(self) -> None:
        detail = f"A request body may have at most {self.limits.max_body_bytes} bytes."
        self.refuse(413, "Content Too Large", detail, "request body too large", stop=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()  # the next request's head, within the same bound

    # ----- refusing -------------------------------------------------------------------------

    def refuse(
        self,
        status: int,
        title: str,
        detail: str,
        reason: str,
        *,
        retry_after: int | None = None,
        stop: bool = False,
    ) -> None:
        """Answer `status`, stop reading requests, close after a short linger; log the kind."""
        if self.refused:
            if stop:
                raise _Refused
            return
        self.refused = True
        self._head_arrived()
        refusals.record(f"{status} {reason}")
        if self.cycle is not None and not self.cycle.response_complete:
            # A request is being answered (its body was too large): let the answer finish, then
            # uvicorn closes the connection; the rest of the body is dropped meanwhile.
            self.cycle.keep_alive = False
        else:
            self.transport.write(_refusal_bytes(status, title, detail, retry_after))
            # Keep reading (and dropping) for a moment after the answer: closing a socket with
            # unread input makes the kernel send a reset, which can destroy the answer unread.
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        if stop:
            raise _Refused


def _evict_oldest_waiting() -> bool:
    """Close the connection that has waited longest for a request head; False if none waits."""
    oldest = next(iter(_waiting), None)
    if oldest is None:
        return False
    refusals.record("closed the oldest idle connection: connection limit reached")
    oldest._head_arrived()
    oldest.transport.close()
    return True


def connections_the_fds_allow() -> int:
    """As many connections as this process's file descriptor limit leaves room for."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1_000_000
    return max(soft - RESERVED_FILE_DESCRIPTORS, 10)


def raise_file_limit(settings: Settings) -> None:
    """Let each worker hold its connection bound in file descriptors (the soft limit is often
    1024); never above the hard limit the system grants."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = settings.max_connections_per_worker + RESERVED_FILE_DESCRIPTORS
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's own options for the bounds: this protocol (httptools, bounded), the keep-alive
    timeout, no `server` header (it only tells an attacker what to aim at)."""
    return {
        "http": "app.server:BoundedHttpProtocol",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "server_header": False,
    }
