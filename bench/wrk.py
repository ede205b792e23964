"""Drive a URL with wrk and read its report: requests per second and the latency distribution."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# wrk prints durations with these units (src/units.c); we report milliseconds.
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class WrkOutputError(ValueError):
    """wrk's report lacks a line we need (wrong version, or the run failed)."""


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian when missing (we run as root on Debian)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get install -y wrk did not provide a wrk binary")
    return found


def run_wrk(
    url: str, *, seconds: float, connections: int, threads: int, script: Path | None = None
) -> WrkResult:
    """wrk's report of `seconds` (whole seconds: wrk takes no fractions) of load on `url`."""
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        *(["--script", str(script)] if script else []),
        url,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return parse_wrk_output(done.stdout)


def parse_wrk_output(text: str) -> WrkResult:
    percentiles = {
        int(p): _ms(value, unit)
        for p, value, unit in re.findall(rf"^\s+(50|75|90|99)%\s+{_DURATION}\s*$", text, re.M)
    }
    if set(percentiles) != {50, 75, 90, 99}:
        raise WrkOutputError("no latency distribution: was wrk run with --latency?")
    total = _search(r"^\s*(\d+) requests in " + _DURATION, text)
    rps = _search(r"^Requests/sec:\s+([\d.]+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def _search(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text, re.M)
    if found is None:
        raise WrkOutputError(f"wrk's report has no line matching {pattern!r}")
    return found


def _ms(value: str, unit: str) -> float:
    return float(value) * _TO_MS[unit]
