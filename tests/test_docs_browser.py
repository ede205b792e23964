"""Headless Chromium, cut off from the internet, opens /docs (Swagger UI) and /redoc (ReDoc): the
pages must render every path of /openapi.json from the assets this service serves itself, under
the Content-Security-Policy the service sends for them.

Chromium is the Debian package; the test installs it with apt-get when it is missing.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

# Every host name but the loopback address fails to resolve: nothing can come from a CDN.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    OFFLINE,
    "--virtual-time-budget=10000",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True,
            timeout=900,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        found = shutil.which("chromium")
    assert found, "chromium could not be installed"
    return found


def rendered_dom(chromium: str, url: str, profile: Path) -> str:
    run = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return html.unescape(run.stdout)


@pytest.fixture(scope="module")
def paths(live_server: LiveServer) -> list[str]:
    return list(httpx.get(live_server.url + "/openapi.json").json()["paths"])


def test_swagger_ui_lists_every_path_offline(
    chromium: str, live_server: LiveServer, paths: list[str], tmp_path: Path
) -> None:
    dom = rendered_dom(chromium, live_server.url + "/docs", tmp_path / "profile")
    # Swagger UI draws each operation as a block carrying its path.
    shown = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert shown == set(paths)


def test_redoc_lists_every_path_offline(
    chromium: str, live_server: LiveServer, paths: list[str], tmp_path: Path
) -> None:
    dom = rendered_dom(chromium, live_server.url + "/redoc", tmp_path / "profile")
    # ReDoc draws each operation's method badge followed by its path.
    shown = set(re.findall(r'http-verb get">get</span><span[^>]*>([^<]+)</span>', dom))
    assert shown == set(paths)
