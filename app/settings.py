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
