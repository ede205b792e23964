"""Two pieces of start-up at once: one in a forked child, the other in this process.

`monograph serve` must migrate and seed the database, and the process that serves must import the
web application. Each takes most of a second, neither needs the other until serving begins, and a
machine that is starting a service has a core to spare: the child does the first while this
process does the second.

The child tells the parent its exit status and, through a pipe, what it had to say on stderr (a
failure's plain lines, or a traceback), which the parent writes to its own stderr: a failure reads
as if it had happened here, even where this process's stderr is not a file (a test's capture).
Its log lines go where this process's go, through the descriptors it inherited.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn


def run_alongside(work: Callable[[], int], meanwhile: Callable[[], None]) -> int:
    """`work`'s exit status; `work` runs in a forked child while `meanwhile` runs here.

    Where there is no fork (Windows), or the system has no process to spare, `work` runs first
    and `meanwhile` only if it succeeded. If `meanwhile` fails (Ctrl-C included), the child is
    stopped and the failure raised."""
    if not hasattr(os, "fork"):
        return _one_after_the_other(work, meanwhile)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        child = os.fork()
    except OSError:  # EAGAIN or ENOMEM: a limit on processes or memory, not a reason to fail
        os.close(read_end)
        os.close(write_end)
        return _one_after_the_other(work, meanwhile)
    if child == 0:
        os.close(read_end)
        _run_as_child(work, write_end)
    os.close(write_end)
    try:
        meanwhile()
    except BaseException:
        os.kill(child, signal.SIGTERM)
        raise
    finally:
        # Read to the end first: a child with more to say than the pipe holds waits for us.
        told = _read_to_end(read_end)
        _, wait_status = os.waitpid(child, 0)
    if told:
        sys.stderr.write(told)
        sys.stderr.flush()
    return _exit_code(wait_status)


def _one_after_the_other(work: Callable[[], int], meanwhile: Callable[[], None]) -> int:
    status = work()
    if status == 0:
        meanwhile()
    return status


def _run_as_child(work: Callable[[], int], write_end: int) -> NoReturn:
    """Run `work`, send what it wrote to stderr up the pipe, and leave with its status without
    running anything the parent registered to run at exit (it is the parent's to run)."""
    status = 1
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            try:
                status = work()
            except SystemExit as leaving:
                status = leaving.code if isinstance(leaving.code, int) else 1
            except BaseException:
                traceback.print_exc()
    finally:
        try:
            _write_all(write_end, said.getvalue().encode())
        finally:
            os._exit(status)


def _read_to_end(descriptor: int) -> str:
    chunks = []
    with os.fdopen(descriptor, "rb") as pipe:
        while chunk := pipe.read(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _write_all(descriptor: int, data: bytes) -> None:
    with os.fdopen(descriptor, "wb") as pipe:
        pipe.write(data)


def _exit_code(wait_status: int) -> int:
    """The child's exit status; 128 + N for a child killed by signal N, as shells report it."""
    code = os.waitstatus_to_exitcode(wait_status)
    return code if code >= 0 else 128 - code
