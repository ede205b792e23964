"""Start-up: the work of a forked child and what it tells its parent (app.startup), and the
request that has FastAPI prepare its routes before a worker is ready (app.main)."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from app.cli import main
from app.main import create_app, prepare_routes
from app.settings import Settings
from app.startup import run_alongside
from tests.conftest import LiveServer


def _note_pid(path: Path, status: int = 0) -> int:
    # Whole or not at all: the other process may read the file the moment it exists.
    partial = path.with_suffix(".partial")
    partial.write_text(str(os.getpid()))
    partial.replace(path)
    return status


def test_the_work_runs_in_a_child_while_this_process_goes_on(tmp_path: Path) -> None:
    worked, waited = tmp_path / "work", tmp_path / "meanwhile"

    def work() -> int:
        # Waits for `meanwhile` to have run: both run at once, or this never returns 0.
        deadline = time.monotonic() + 30
        while not waited.exists():
            if time.monotonic() > deadline:
                return 3
            time.sleep(0.01)
        return _note_pid(worked)

    def meanwhile() -> None:
        _note_pid(waited)

    assert run_alongside(work, meanwhile) == 0
    assert int(waited.read_text()) == os.getpid()
    assert int(worked.read_text()) != os.getpid()


def test_the_child_status_and_what_it_said_reach_the_parent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails_plainly() -> int:
        print("monograph serve: the seed is broken", file=sys.stderr)
        return 1

    assert run_alongside(fails_plainly, lambda: None) == 1
    assert capsys.readouterr().err == "monograph serve: the seed is broken\n"

    def raises() -> int:
        raise RuntimeError("asked for the traceback")

    assert run_alongside(raises, lambda: None) == 1
    said = capsys.readouterr().err
    assert said.startswith("Traceback") and "RuntimeError: asked for the traceback" in said

    def says_a_lot() -> int:  # more than a pipe holds before its reader reads
        print("x" * 200_000, file=sys.stderr)
        return 0

    assert run_alongside(says_a_lot, lambda: time.sleep(0.2)) == 0
    assert len(capsys.readouterr().err) == 200_001


def test_a_child_killed_by_a_signal_reports_it_as_a_shell_would() -> None:
    def killed() -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    assert run_alongside(killed, lambda: None) == 128 + signal.SIGKILL


def test_when_this_process_fails_meanwhile_the_child_is_stopped(tmp_path: Path) -> None:
    started = tmp_path / "child"

    def slow() -> int:
        _note_pid(started)
        time.sleep(120)
        return 0

    def fails() -> None:
        while not started.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_alongside(slow, fails)
    assert time.monotonic() - began < 60  # stopped, not waited for
    with pytest.raises(ProcessLookupError):  # reaped: no such process any more
        os.kill(int(started.read_text()), 0)


def _refuse_to_fork() -> int:
    raise BlockingIOError(11, "Resource temporarily unavailable")  # what fork(2) gives at a limit


@pytest.mark.parametrize("platform", ["no fork at all", "fork refused"])
def test_without_fork_the_work_comes_first_and_a_failure_skips_the_rest(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform == "no fork at all":
        monkeypatch.delattr(os, "fork")
    else:
        monkeypatch.setattr(os, "fork", _refuse_to_fork)
    order: list[str] = []

    def work(status: int) -> int:
        order.append(f"work {os.getpid()}")
        return status

    def meanwhile() -> None:
        order.append("meanwhile")

    descriptors = len(os.listdir("/proc/self/fd"))
    assert run_alongside(lambda: work(0), meanwhile) == 0
    assert order == [f"work {os.getpid()}", "meanwhile"]
    assert len(os.listdir("/proc/self/fd")) == descriptors  # the pipe closed again
    order.clear()
    assert run_alongside(lambda: work(2), meanwhile) == 2
    assert order == [f"work {os.getpid()}"]


def test_the_request_that_prepares_the_routes_reaches_no_endpoint(tmp_path: Path) -> None:
    # Sent before the worker is ready, it must not run an endpoint: a route that matched its path
    # would answer before the dataset is served. No route of the application matches it.
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    assert asyncio.run(prepare_routes(app)) == 404


# `monograph` starts with the cyclic garbage collector off (app.launch); each way it goes on
# must turn it on, or a serving worker would never free a reference cycle.


def test_a_worker_started_with_the_collector_off_turns_it_on_once_ready(
    prepared_database: str, seed_dir: Path
) -> None:
    gc.disable()
    try:
        settings = Settings(database_url=prepared_database, seed_dir=seed_dir)
        with LiveServer(settings):
            assert gc.isenabled()
    finally:
        gc.enable()


def test_commands_other_than_serving_turn_the_collector_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gc.disable()
    try:
        assert main(["check"]) == 0
        assert gc.isenabled()
    finally:
        gc.enable()
    assert "seed is valid" in capsys.readouterr().out
