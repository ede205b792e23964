"""One settings object, read from the environment (prefix MONOGRAPH_) and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MONOGRAPH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'monograph.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.",
    )
    seed_dir: Path = Field(default=PROJECT_ROOT / "seed", description="Folder of the seed dataset.")
    host: str = Field(default="127.0.0.1", description="Interface `monograph serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `monograph serve` binds.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="Where clients reach the service: the base of FHIR canonical URLs and "
        "`fullUrl`s (`{public_url}/fhir/R5/...`), which this service serves.",
    )
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    cache_max_age: int = Field(
        default=300, ge=0, description="Cache-Control max-age, in seconds, of GET responses."
    )
    reload_check_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often a worker asks the database whether a new dataset was loaded.",
    )
    startup_wait_seconds: float = Field(
        default=30.0, ge=0, description="How long a worker waits at start-up for a loaded dataset."
    )
    cors_origins: list[str] = Field(default=[], description="Origins allowed by CORS (JSON list).")
    log_level: str = Field(default="info", description="Log level of the service.")
    access_log: bool = Field(
        default=True, description="One JSON access-log line per request on stderr (false: none)."
    )
    graceful_shutdown_seconds: int = Field(
        default=10,
        ge=0,
        description="On SIGTERM, how long uvicorn lets open requests finish before closing them.",
    )
    # What one client may cost a worker (app/server.py, docs/hardening.md).
    max_request_head_bytes: int = Field(
        default=16384, ge=1024, description="Request line and headers together, in bytes (431)."
    )
    max_request_headers: int = Field(
        default=100, ge=10, description="Header fields in one request (431)."
    )
    max_request_line_bytes: int = Field(
        default=8192, ge=256, description="The request target (path and query), in bytes (414)."
    )
    max_request_body_bytes: int = Field(
        default=8192, ge=0, description="A request body, in bytes; the API reads none (413)."
    )
    request_head_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time a client has to send a whole request head (408)."
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="How long an idle keep-alive connection stays open."
    )
    max_connections_per_worker: int = Field(
        default=1000,
        ge=10,
        description="Open connections per worker; past it the oldest idle one is closed.",
    )
    # How long the service waits on its database (app/db.py).
    db_connect_timeout_seconds: int = Field(
        default=3, ge=1, description="Connecting to PostgreSQL (libpq connect_timeout)."
    )
    db_statement_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="A request's database work (PostgreSQL statement_timeout, SQLite busy wait).",
    )
    db_retry_after_seconds: int = Field(
        default=5, ge=1, description="Retry-After of a 503 sent because the database failed."
    )
    lock_wait_seconds: float = Field(
        default=120.0,
        ge=0,
        description="How long migrate-and-seed waits for another process's lock before giving up.",
    )
    metrics: bool = Field(
        default=True, description="Serve Prometheus metrics at GET /metrics (false: none)."
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="0: /metrics on the API's port; another port: on that port alone, apart "
        "from the API (`monograph serve`).",
    )
    fast_reads: bool = Field(
        default=True,
        description="Answer valid section lists, facts, search and lookup without FastAPI's "
        "router (the same bytes, faster; false: every request through FastAPI).",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_table() -> str:
    """The settings as a Markdown table (README.md embeds it; a test keeps it equal)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = str(field.default).replace(str(PROJECT_ROOT), "<checkout>")
        rows.append(f"| `MONOGRAPH_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows) + "\n"
