"""The `monograph` command: migrate, seed (once, under a lock), serve, check, locate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session

from app.db import LockTimeoutError, exclusive, make_engine
from app.migrate import is_current, upgrade
from app.models import Dataset as DatasetRow
from app.seed.dataset import Dataset, SeedError, read_dataset
from app.seed.load import LoadResult, write_dataset
from app.seed.locate import print_occurrences
from app.settings import Settings, get_settings


def prepare(
    database_url: str, seed_dir: Path, *, force: bool = False, lock_wait_seconds: float = 120.0
) -> None:
    """Migrate and seed, holding a lock so that many processes starting together do it once.

    When the database is already migrated and holds this dataset (or a newer release), nothing
    is written and no lock is taken: a read-only database that is fully seeded serves.
    """
    dataset = read_dataset(seed_dir)
    engine = make_engine(database_url)
    try:
        current = None if force else _loaded_if_current(engine, database_url)
        if current is not None and (
            current.version == dataset.version or (current.release or 0) > dataset.release
        ):
            result = write_dataset_result(current, dataset)
        else:
            with exclusive(engine, lock_wait_seconds):
                upgrade(database_url)
                result = write_dataset(engine, dataset, force=force)
    finally:
        engine.dispose()
    print(_describe(result, dataset), file=sys.stderr)


def _loaded_if_current(engine: Engine, database_url: str) -> DatasetRow | None:
    """The loaded dataset row when the schema is at the latest migration, else None."""
    if not is_current(engine, database_url):
        return None
    with Session(engine) as session:
        return session.get(DatasetRow, 1)


def write_dataset_result(current: DatasetRow, dataset: Dataset) -> LoadResult:
    """What write_dataset would answer for `current`, found without a lock or a write."""
    if current.version == dataset.version:
        return LoadResult(dataset.version, False, dataset.fact_count())
    kept = (current.version, current.release or 0)
    return LoadResult(dataset.version, False, dataset.fact_count(), kept_newer=kept)


def _describe(result: LoadResult, dataset: Dataset) -> str:
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


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
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
    locate = commands.add_parser("locate", help="print the offsets of a quote in a source text")
    locate.add_argument("quote")
    locate.add_argument("--source", default="baclofen-wikipedia")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on failure, print the whole traceback (as does MONOGRAPH_DEBUG=1)",
    )
    args = parser.parse_args(argv)

    try:
        status = _run(args, settings)
    except Exception as error:
        if args.traceback or os.environ.get("MONOGRAPH_DEBUG") == "1":
            raise
        print(f"monograph {args.command}: {_plainly(error, settings)}", file=sys.stderr)
        return 1
    if args.command == "serve":
        _serve(args.host, args.port, args.workers, settings)
    return status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        upgrade(settings.database_url)
    elif args.command in ("seed", "serve"):
        prepare(
            settings.database_url,
            settings.seed_dir,
            force=args.force,
            lock_wait_seconds=settings.lock_wait_seconds,
        )
    elif args.command == "check":
        dataset = read_dataset(settings.seed_dir)
        print(
            f"seed is valid: version {dataset.version[:12]} (release {dataset.release}), "
            f"{dataset.fact_count()} facts"
        )
    elif args.command == "locate":
        return print_occurrences(settings.seed_dir, args.source, args.quote)
    return 0


def _plainly(error: Exception, settings: Settings) -> str:
    """A start-up failure in one or two plain lines: what is wrong, and what to do."""
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


def _serve(host: str, port: int, workers: int, settings: Settings) -> None:
    import uvicorn

    from app.server import raise_file_limit, uvicorn_limits

    raise_file_limit(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Named rather than "auto": the benchmark is measured with these, never the pure-Python
        # fallbacks (uvicorn[standard] installs both).
        loop="uvloop",
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
