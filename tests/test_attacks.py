"""What a hostile client can cost: a real `monograph serve` process under oversized, slow and
abundant requests (docs/hardening.md). Each bound is met quickly, in bounded memory, and logged;
everyone else is still answered."""

from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import ServiceProcess, free_port, service_env

MB = 1024 * 1024
HALF_OPEN_CONNECTIONS = 2000
HEAD_TIMEOUT = 2
KEEP_ALIVE = 1


@pytest.fixture(scope="module")
def server(
    prepared_database: str, seed_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """One worker with short timeouts and room for fewer connections than the attack opens."""
    port = free_port()
    env = service_env(
        MONOGRAPH_DATABASE_URL=prepared_database,
        MONOGRAPH_SEED_DIR=str(seed_dir),
        MONOGRAPH_REQUEST_HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
        MONOGRAPH_KEEP_ALIVE_SECONDS=str(KEEP_ALIVE),
        MONOGRAPH_MAX_CONNECTIONS_PER_WORKER="500",
        MONOGRAPH_ACCESS_LOG="false",
    )
    log = tmp_path_factory.mktemp("attacks") / "serve.log"
    command = ["monograph", "serve", "--port", str(port), "--workers", "1"]
    process = ServiceProcess(command, env, port, log).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.terminate()


def connect(server: ServiceProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """What the server sent before closing (a reset after the answer counts as the close)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def peak_rss_bytes(pid: int) -> int:
    """The process's resident memory high-water mark since it started (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def healthz_within(server: ServiceProcess, seconds: float) -> float:
    started = time.monotonic()
    response = httpx.get(f"{server.url}/healthz", timeout=seconds)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert elapsed < seconds, elapsed
    return elapsed


def test_a_100_mb_header_is_refused_within_a_second_in_bounded_memory(
    server: ServiceProcess,
) -> None:
    assert server.process is not None
    sock = connect(server)
    sent = 0

    def send_100_mb_header() -> None:
        nonlocal sent
        chunk = b"a" * MB
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nIf-None-Match: ")
            while sent < 100 * MB:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: what we are testing

    started = time.monotonic()
    sender = threading.Thread(target=send_100_mb_header)
    sender.start()
    sock.settimeout(3)
    answer = sock.recv(65536)  # the first bytes of the answer, while the client still sends
    elapsed = time.monotonic() - started
    sender.join(timeout=30)
    sock.close()

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer
    assert elapsed < 1, elapsed
    assert sent < 100 * MB  # the server stopped it long before the end
    assert peak_rss_bytes(server.process.pid) < 150 * MB
    healthz_within(server, 1)
    assert "refused: 431 request head too large" in server.log


def test_2000_idle_half_open_connections_do_not_stop_healthz(server: ServiceProcess) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = HALF_OPEN_CONNECTIONS + 200
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard file descriptor limit ({hard}) is below {needed}")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    sockets: list[socket.socket] = []
    try:
        for _ in range(HALF_OPEN_CONNECTIONS):  # each sends a request head and never ends it
            sock = connect(server)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        healthz_within(server, 1)
        # The worker holds at most 500: the oldest idle ones were closed to make room.
        closed = sum(1 for sock in sockets[:100] if _closed_by_server(sock))
        assert closed == 100
    finally:
        for sock in sockets:
            sock.close()
    assert "closed the oldest idle connection" in server.log
    healthz_within(server, 1)


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(2)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_request_head_sent_too_slowly_is_answered_408_and_closed(server: ServiceProcess) -> None:
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # ... and nothing more
    sock.settimeout(HEAD_TIMEOUT + 3)
    started = time.monotonic()
    answer = read_answer(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert HEAD_TIMEOUT - 0.5 < elapsed < HEAD_TIMEOUT + 2, elapsed


def test_a_connection_that_never_speaks_is_closed(server: ServiceProcess) -> None:
    sock = connect(server)
    sock.settimeout(HEAD_TIMEOUT + 3)
    assert read_answer(sock) == b""  # closed without a word
    sock.close()


def test_an_idle_keep_alive_connection_is_closed(server: ServiceProcess) -> None:
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    first = sock.recv(65536)
    while not first.endswith(b'{"status":"ok"}'):
        first += sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 "), first
    started = time.monotonic()
    rest = read_answer(sock)
    sock.close()
    assert rest == b""
    assert time.monotonic() - started < KEEP_ALIVE + 2


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 150 + b"\r\n", b"431"),
        (b"GET /healthz?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", b"413"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n", b"431"),
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
    ],
    ids=["150-headers", "9000-byte-target", "1-mb-body", "20-kb-header", "garbage"],
)
def test_requests_past_a_bound_are_refused_fast_and_named(
    server: ServiceProcess, request_bytes: bytes, status: bytes
) -> None:
    sock = connect(server)
    sock.settimeout(3)
    started = time.monotonic()
    sock.sendall(request_bytes)
    answer = read_answer(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    assert b"application/problem+json" in answer
    assert b"connection: close" in answer
    assert elapsed < 2, elapsed  # the answer, then a short linger before the close


def test_no_server_header_is_sent(server: ServiceProcess) -> None:
    response = httpx.get(f"{server.url}/v1/drugs")
    assert response.status_code == 200
    assert "server" not in response.headers
