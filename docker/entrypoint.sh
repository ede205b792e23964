#!/bin/sh
# The container's entrypoint. `monograph serve` migrates and seeds (once across all replicas and
# workers: it holds a lock in the database while it does) and then runs uvicorn with
# MONOGRAPH_WORKERS workers on MONOGRAPH_HOST:MONOGRAPH_PORT (the image sets 0.0.0.0:8000).
# `exec` replaces this shell, so the SIGTERM of `docker stop` reaches uvicorn itself, which lets open
# requests finish (MONOGRAPH_GRACEFUL_SHUTDOWN_SECONDS) before it exits.
set -eu
exec monograph serve "$@"
