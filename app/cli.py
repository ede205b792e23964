"""The `monograph` command: migrate, seed (once, under a lock), serve, check, export, locate."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from app.catalog import load_catalog
from app.db import exclusive, make_engine
from app.domain.sections import Section
from app.formats.export import FILE_NAMES, ExportFormat, chunks
from app.logs import configure_logging
from app.migrate import upgrade
from app.seed.dataset import SeedError, read_dataset
from app.seed.load import write_dataset
from app.seed.locate import print_occurrences
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def prepare(database_url: str, seed_dir: Path, *, force: bool = False) -> None:
    """Migrate and seed, holding a lock so that many processes starting together do it once."""
    engine = make_engine(database_url)
    try:
        _wait_for_the_others("start", timeout=60)
        with exclusive(engine):
            upgrade(database_url)
            dataset = read_dataset(seed_dir)
            # Under the lock, nobody else comes: each waits the whole timeout, alone.
            _wait_for_the_others("write", timeout=1)
            result = write_dataset(engine, dataset, force=force)
    finally:
        engine.dispose()
    state = "loaded" if result.written else "already loaded"
    logger.info("dataset %s %s (%d facts)", result.version[:12], state, result.facts)


# A test hook, "<folder>:<count>": each process waits at two points until <count> of them have
# arrived (or a timeout passes): before the lock, and inside it just before the seed is written.
# Processes merely started together reach the lock up to seconds apart, so a test of the lock
# passed by luck without one; with these waits, processes without a lock check and write the seed
# at one instant (tests/test_concurrent_start.py).
START_BARRIER_VARIABLE = "MONOGRAPH_TEST_START_BARRIER"


def _wait_for_the_others(stage: str, timeout: float) -> None:
    barrier = os.environ.get(START_BARRIER_VARIABLE)
    if not barrier:
        return
    folder, count = barrier.rsplit(":", 1)
    arrived = Path(folder) / stage
    arrived.mkdir(exist_ok=True)
    (arrived / str(os.getpid())).touch()
    deadline = time.monotonic() + timeout
    while len(list(arrived.iterdir())) < int(count) and time.monotonic() < deadline:
        time.sleep(0.01)


def export_files(database_url: str, fmt: str, section: str | None, folder: Path) -> int:
    """Write the export files of the loaded dataset (the bytes GET /v1/export serves)."""
    engine = make_engine(database_url)
    try:
        catalog = load_catalog(engine)
    finally:
        engine.dispose()
    if catalog is None:
        print("no dataset is loaded: run `monograph seed` first", file=sys.stderr)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    chosen = ExportFormat(fmt)
    # The CSV export is two files: the records, and their evidence.
    formats = [chosen, ExportFormat.evidence_csv] if chosen is ExportFormat.csv else [chosen]
    for each in formats:
        path = folder / FILE_NAMES[each]
        with path.open("wb") as out:
            for chunk in chunks(catalog, each, Section(section) if section else None):
                out.write(chunk)
        print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(settings.log_level, settings.access_log)
    parser = argparse.ArgumentParser(prog="monograph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the Alembic migrations")
    seed = commands.add_parser("seed", help="migrate, then load the seed dataset (all or nothing)")
    seed.add_argument("--force", action="store_true", help="rewrite even if this version is loaded")
    commands.add_parser("check", help="validate the seed dataset without writing anything")
    serve = commands.add_parser("serve", help="migrate, seed, then serve with uvicorn")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--workers", type=int, default=settings.workers)
    export = commands.add_parser(
        "export", help="write the whole dataset, as GET /v1/export serves it, into a folder"
    )
    export.add_argument("--format", choices=[f.value for f in ExportFormat], default="json")
    export.add_argument("--section", choices=[s.value for s in Section], default=None)
    export.add_argument("dir", type=Path)
    locate = commands.add_parser("locate", help="print the offsets of a quote in a source text")
    locate.add_argument("quote")
    locate.add_argument("--source", default="baclofen-wikipedia")
    args = parser.parse_args(argv)

    try:
        if args.command == "migrate":
            upgrade(settings.database_url)
        elif args.command in ("seed", "serve"):
            prepare(settings.database_url, settings.seed_dir, force=getattr(args, "force", False))
        elif args.command == "check":
            dataset = read_dataset(settings.seed_dir)
            print(
                f"seed is valid: version {dataset.version[:12]}, {dataset.fact_count()} facts "
                f"in {dataset.record_count()} records"
            )
            kinds = dataset.evidence_kinds()
            print(
                f"external evidence: {kinds['quotes']} verbatim quotes, {kinds['values']} values; "
                f"{kinds['unverified']} not confirmed by a stored copy of the cited work"
            )
        elif args.command == "export":
            return export_files(settings.database_url, args.format, args.section, args.dir)
        elif args.command == "locate":
            return print_occurrences(settings.seed_dir, args.source, args.quote)
    except SeedError as error:
        print(error, file=sys.stderr)
        return 1
    if args.command == "serve":
        _serve(args.host, args.port, args.workers, settings)
    return 0


def _serve(host: str, port: int, workers: int, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Named rather than "auto": the benchmark is measured with these, never the pure-Python
        # fallbacks (uvicorn[standard] installs both).
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


if __name__ == "__main__":
    raise SystemExit(main())
