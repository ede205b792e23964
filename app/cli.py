"""The `monograph` command: migrate, seed (once, under a lock), serve, check, export, locate."""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session

from app.db import LockTimeoutError, make_engine, migrate_and_seed_lock
from app.domain.sections import Section
from app.formats.export import FILE_NAMES, ExportFormat, chunks
from app.logs import configure_logging
from app.models import Dataset
from app.settings import Settings, get_settings
from app.startup import run_alongside

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.seed.load import LoadResult
    from app.seed.models import SeedDataset

# Migrating (Alembic) and the seed's reader and loader are imported where they are used, not
# here: `serve` migrates and seeds in a forked child while this process imports the web
# application (app.startup), which needs neither, and importing them took a third of a second.

logger = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def migrate_and_seed(
    database_url: str, seed_dir: Path, *, force: bool = False, lock_wait_seconds: float = 120.0
) -> None:
    """Migrate and seed, holding a lock so that many processes starting together do it once.

    When the database is already migrated and holds this dataset (or a newer release), nothing
    is written and no lock is taken: a read-only database that is fully seeded serves. When it
    holds this very dataset, the seed is not even read: its version is the hash of its files,
    which were read and checked when they were loaded, and reading them again took a fifth of a
    second per drug (eleven seconds of every start with fifty drugs, before serving).
    """
    from app.migrate import upgrade
    from app.seed.load import write_dataset
    from app.seed.reader import dataset_version, read_dataset

    engine = make_engine(database_url)
    try:
        current = None if force else _loaded_if_current(engine, database_url)
        if current is not None and current.version == dataset_version(seed_dir):
            logger.info(
                "dataset %s already loaded (%d facts): its files unchanged, not read again",
                current.version[:12],
                current.fact_count,
            )
            return
        dataset = read_dataset(seed_dir)
        if current is not None and (current.release or 0) > dataset.release:
            result = _kept_newer(current, dataset)
        else:
            _wait_for_the_others("start", timeout=60)
            with migrate_and_seed_lock(engine, lock_wait_seconds):
                upgrade(database_url)
                # Under the lock, nobody else comes: each waits the whole timeout, alone.
                _wait_for_the_others("write", timeout=1)
                result = write_dataset(engine, dataset, force=force)
    finally:
        engine.dispose()
    logger.info(_describe(result, dataset))


def _loaded_if_current(engine: Engine, database_url: str) -> Dataset | None:
    """The loaded dataset row when the schema is at the latest migration, else None."""
    from app.migrate import is_current

    if not is_current(engine, database_url):
        return None
    with Session(engine) as session:
        return session.get(Dataset, 1)


def _kept_newer(current: Dataset, dataset: SeedDataset) -> LoadResult:
    """What write_dataset would answer when `current` is of a newer release than `dataset`,
    found without a lock or a write."""
    from app.seed.load import LoadResult

    kept = (current.version, current.release or 0)
    return LoadResult(dataset.version, False, dataset.fact_count(), kept_newer=kept)


def _describe(result: LoadResult, dataset: SeedDataset) -> str:
    ours = f"dataset {result.version[:12]}"
    if result.kept_newer:
        version, release = result.kept_newer
        return (
            f"{ours} (release {dataset.release}) not loaded: the database holds release {release}"
            f" ({version[:12]}), which is newer; `monograph seed --force` would replace it"
        )
    if result.replaced_newer:
        version, release = result.replaced_newer
        return (
            f"{ours} (release {dataset.release}) loaded ({result.facts} facts) over the newer "
            f"release {release} ({version[:12]}), because of --force"
        )
    state = "loaded" if result.written else "already loaded"
    return f"{ours} {state} ({result.facts} facts)"


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
    # Here, not at the top: the catalog pulls in prometheus_client, which `serve` must import
    # only after it has set the workers' metrics folder.
    from app.catalog.projection import load_catalog

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
    seed.add_argument(
        "--force",
        action="store_true",
        help="rewrite even if this version, or a newer release, is loaded",
    )
    commands.add_parser("check", help="validate the seed dataset without writing anything")
    serve = commands.add_parser("serve", help="migrate, seed, then serve with uvicorn")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--workers", type=int, default=settings.workers)
    serve.add_argument(
        "--force", action="store_true", help="load this seed even over a newer loaded release"
    )
    export = commands.add_parser(
        "export", help="write the whole dataset, as GET /v1/export serves it, into a folder"
    )
    export.add_argument("--format", choices=[f.value for f in ExportFormat], default="json")
    export.add_argument("--section", choices=[s.value for s in Section], default=None)
    export.add_argument("dir", type=Path)
    locate = commands.add_parser("locate", help="print the offsets of a quote in a source text")
    locate.add_argument("quote")
    locate.add_argument("--source", help="the source text's id (default: the seed's only one)")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on failure, print the whole traceback (as does MONOGRAPH_DEBUG=1)",
    )
    args = parser.parse_args(argv)

    # Off while the command started (app.launch). One worker serving keeps it off until it is
    # ready (app.main's lifespan): its start-up is the cold start. Anything else: on from here.
    if not (args.command == "serve" and args.workers == 1):
        gc.enable()
    if args.command == "serve":
        return _start_and_serve(args, settings)
    return _run_reported(args, settings)


def _run_reported(args: argparse.Namespace, settings: Settings) -> int:
    """The command's exit status; a failure told in a line or two on stderr (status 1), or
    raised whole when --traceback or MONOGRAPH_DEBUG=1 asks for it."""
    try:
        return _run(args, settings)
    except Exception as error:
        if args.traceback or os.environ.get("MONOGRAPH_DEBUG") == "1":
            raise
        print(f"monograph {args.command}: {_plainly(error, settings)}", file=sys.stderr)
        return 1


def _start_and_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate and seed, then serve. With one worker, uvicorn serves in this process, which
    builds the web application while a forked child migrates and seeds (app.startup): each took
    most of a second of a cold start. More workers are spawned processes that build it
    themselves; this one then only waits for the child."""
    # Before the web application is imported: prometheus_client reads the folder on import.
    forget_metrics_dir = _prepare_metrics_dir() if settings.metrics else _nothing
    built: list[FastAPI] = []
    meanwhile = partial(_build_web_application, settings, built) if args.workers == 1 else _nothing
    status = run_alongside(partial(_run_reported, args, settings), meanwhile)
    if status != 0:
        forget_metrics_dir()  # nothing will serve: the environment as it was, for a caller
        return status
    _serve(args.host, args.port, args.workers, settings, built[0] if built else None)
    return 0


def _build_web_application(settings: Settings, built: list[FastAPI]) -> None:
    """The application uvicorn will serve, built now, its routes prepared: FastAPI prepares them
    on the first request it routes, a sixth of a second that the lifespan otherwise spends after
    the seed, when nothing else can be done (app.main.prepare_routes). Its lifespan, which needs
    the seeded database, runs when uvicorn starts it."""
    import asyncio

    import app.server  # noqa: F401 (uvicorn imports the protocol by name: found done)
    from app.main import create_app, prepare_routes

    application = create_app(settings)
    asyncio.run(prepare_routes(application))
    built.append(application)


def _nothing() -> None:
    return None


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from app.migrate import upgrade

        upgrade(settings.database_url)
    elif args.command in ("seed", "serve"):
        migrate_and_seed(
            settings.database_url,
            settings.seed_dir,
            force=args.force,
            lock_wait_seconds=settings.lock_wait_seconds,
        )
    elif args.command == "check":
        from app.seed.reader import read_dataset

        dataset = read_dataset(settings.seed_dir)
        print(
            f"seed is valid: version {dataset.version[:12]} (release {dataset.release}), "
            f"{dataset.fact_count()} facts in {dataset.record_count()} records"
        )
        kinds = dataset.evidence_kinds()
        print(
            f"external evidence: {kinds['quotes']} verbatim quotes, {kinds['values']} values; "
            f"{kinds['unverified']} not confirmed by a stored copy of the cited work"
        )
    elif args.command == "export":
        return export_files(settings.database_url, args.format, args.section, args.dir)
    elif args.command == "locate":
        from app.seed.locate import print_occurrences

        return print_occurrences(settings.seed_dir, args.source, args.quote)
    return 0


def _plainly(error: Exception, settings: Settings) -> str:
    """A start-up failure in one or two plain lines: what is wrong, and what to do."""
    from app.seed.models import SeedError

    if isinstance(error, SeedError | LockTimeoutError):
        return str(error)
    url = settings.database_url
    if isinstance(error, ArgumentError):
        return (
            f"MONOGRAPH_DATABASE_URL is not a database URL: {_first_line(error)}\n"
            "Give sqlite:///path/to/file.db or postgresql+psycopg://user@host:port/database."
        )
    if isinstance(error, DBAPIError):
        shown = make_url(url).render_as_string(hide_password=True)
        return (
            f"cannot use the database {shown}: {_first_line(error.orig)}\n"
            "Check that it runs and accepts this user, and MONOGRAPH_DATABASE_URL."
        )
    if isinstance(error, SQLAlchemyError | OSError):
        return f"{_first_line(error)}\nCheck MONOGRAPH_DATABASE_URL and MONOGRAPH_SEED_DIR."
    return f"{type(error).__name__}: {_first_line(error)}\nRun again with --traceback for details."


def _first_line(error: BaseException | None) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _prepare_metrics_dir() -> Callable[[], None]:
    """A clean folder for the workers' metric samples, in the environment they inherit; gives
    what undoes it when nothing is to be served after all.

    An operator's PROMETHEUS_MULTIPROC_DIR is used and emptied (samples of a previous run would
    add up with this one's); otherwise a temporary folder, removed when this process exits.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return _nothing
    folder = Path(tempfile.mkdtemp(prefix="monograph-metrics-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ[MULTIPROC_ENV] = str(folder)

    def forget() -> None:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)

    return forget


def _serve(
    host: str, port: int, workers: int, settings: Settings, application: FastAPI | None = None
) -> None:
    """Serve `application` (one worker), or what each worker builds (app.main.create_app)."""
    import uvicorn

    from app.server import raise_file_limit, uvicorn_limits

    raise_file_limit(settings)

    if settings.metrics and settings.metrics_port:
        # The folder is ready (_start_and_serve): the workers inherit it and count into it.
        from app.metrics import serve_on_port

        serve_on_port(host, settings.metrics_port)

    uvicorn.run(
        application or "app.main:create_app",
        factory=application is None,
        host=host,
        port=port,
        workers=workers,
        # Python's own asyncio loop, named rather than "auto" (which picks uvloop when installed):
        # saturated with 64 connections, uvloop left a few connections unserved for 0.4 to 1.3 s
        # (p99 ten times the median) while asyncio served every one within 80 ms, at the same
        # throughput (docs/performance.md).
        loop="asyncio",
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        # uvicorn restarts a worker not ready within 5 s; on a busy machine loading the catalog
        # can take longer, and the restarts would never end.
        timeout_worker_healthcheck=60,
        **uvicorn_limits(settings),
    )


if __name__ == "__main__":
    raise SystemExit(main())
