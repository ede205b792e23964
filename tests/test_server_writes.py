"""A response's head leaves with its body, in one write (app.server.HeadWithBodyTransport), and
nothing is held back that must go out at once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import uvicorn

from app.main import create_app
from app.server import HeadWithBodyTransport, uvicorn_limits
from app.settings import Settings
from tests.conftest import LiveServer


class Recorded(asyncio.Transport):
    """A transport that keeps what it is asked to write (asyncio's, not one of ours)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_the_head_and_the_body_are_one_write() -> None:
    recorded = Recorded()
    transport = HeadWithBodyTransport(recorded)
    transport.write(HEAD)
    assert recorded.writes == []
    transport.write(b"{}")
    assert recorded.writes == [HEAD + b"{}"]


def test_an_empty_body_still_sends_the_head() -> None:
    recorded = Recorded()
    transport = HeadWithBodyTransport(recorded)
    transport.write(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    transport.write(b"")
    assert recorded.writes == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]


def test_100_continue_goes_out_at_once_and_close_flushes_a_held_head() -> None:
    recorded = Recorded()
    transport = HeadWithBodyTransport(recorded)
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert recorded.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport.write(HEAD)
    transport.close()
    assert recorded.writes[-1] == HEAD and recorded.closed


def test_the_server_writes_each_response_through_it(live_server: LiveServer) -> None:
    """The protocol `monograph serve` runs installs it on every request/response cycle."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as connection:
        connection.sendall(b"GET /v1/drugs/baclofen/routes?limit=1 HTTP/1.1\r\nhost: x\r\n\r\n")
        assert connection.recv(1 << 20).startswith(b"HTTP/1.1 200 ")
        cycles = [getattr(p, "cycle", None) for p in live_server.server.server_state.connections]
        transports = [type(cycle.transport) for cycle in cycles if cycle is not None]
    assert HeadWithBodyTransport in transports


def test_connections_send_without_delay_even_on_a_socket_bound_for_several_workers(
    prepared_database: str, seed_dir: Path
) -> None:
    """uvicorn binds one socket for all workers, with proto 0: asyncio then leaves Nagle's
    algorithm on each connection, unless the protocol turns it off (40 ms a response if not)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds
    listening.bind(("127.0.0.1", 0))
    settings = Settings(database_url=prepared_database, seed_dir=seed_dir)
    config = uvicorn.Config(
        create_app(settings), loop="asyncio", log_level="warning", **uvicorn_limits(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with socket.create_connection(listening.getsockname(), timeout=5) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            assert connection.recv(1 << 16).startswith(b"HTTP/1.1 200 ")
            sockets = [
                p.transport.get_extra_info("socket") for p in server.server_state.connections
            ]
            delays = {s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets}
        assert delays == {1}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()
