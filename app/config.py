"""Settings, read from ECONFACTS_* environment variables (and a .env file if present).

The defaults give a working single-machine service: a SQLite file under ./var/.
"""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "econfacts.sqlite3"
DEFAULT_CURSOR_SECRET = "econfacts-development-cursor-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECONFACTS_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int | None = Field(
        None,
        ge=1,
        description="Worker processes of `econfacts serve`; default: the CPU count in "
        "production, 1 otherwise (see worker_count).",
    )
    worker_threads: int = Field(
        8,
        ge=1,
        description="Threads that run requests' database work (writes have two more).",
    )
    keep_alive_s: int = Field(
        75,
        ge=1,
        description="How long an idle keep-alive connection stays open. Longer than the "
        "idle timeout of clients and proxies (nginx: 60 s), so that they, not the server, "
        "close idle connections and never send a request on one the server just closed.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto",
        description="json: one JSON object per line; text: lines for people; auto: text when "
        "the log stream (stderr) is a terminal, JSON otherwise.",
    )
    redis_url: str | None = Field(
        None,
        description="redis://host:port/db: rate limits shared by every worker and replica "
        "using it (app/limits.py); unset: each process limits on its own.",
    )
    redis_prefix: str = Field(
        "econfacts:", description="Prefix of the Redis keys (several services on one Redis)."
    )
    cors_origins: list[str] = ["*"]
    page_size_default: int = Field(50, ge=1)
    page_size_max: int = Field(500, ge=1)
    sqlite_busy_timeout_ms: int = Field(5000, ge=0)
    require_key_for_reads: bool = Field(
        False, description="If true, GET requests need an API key of scope read or higher."
    )
    idempotency_ttl_hours: int = Field(24, ge=1)
    response_cache_mb: int = Field(
        32,
        ge=0,
        description="Memory for repeated identical GETs (0 = off); see app/http/response_cache.py.",
    )
    cache_max_age: int = Field(
        15, ge=0, description="Cache-Control max-age on GETs; clients revalidate with ETags."
    )
    max_body_bytes: int = Field(
        2_000_000, ge=1024, description="Largest request body accepted (413 above it)."
    )
    debug: bool = Field(
        False, description="Tracebacks in logs at debug level; never in production."
    )
    cors_allow_credentials: bool = False
    data_access: Literal["public", "restricted"] = Field(
        "public", description="restricted: the data must not be readable without a key."
    )
    access_log: bool = Field(True, description="One JSON line per request.")
    rate_limit_per_address: int = Field(
        600, ge=0, description="Requests per minute per client address without a key; 0 = off."
    )
    rate_limit_per_key: int = Field(
        3000, ge=0, description="Requests per minute per API key; 0 = off."
    )
    query_timeout_ms: int = Field(
        5000, ge=0, description="Longest a request's SQL may run before it is cut off; 0 = off."
    )
    cursor_secret: str = Field(
        DEFAULT_CURSOR_SECRET,
        description="Signs pagination cursors so a tampered cursor is refused; set it in production.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, url: str) -> str:
        """Accept the common postgres:// spellings and use the psycopg 3 driver we ship."""
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def worker_count(self) -> int:
        """`workers` if set, else every CPU in production and one process elsewhere."""
        if self.workers is not None:
            return self.workers
        if self.environment == "production":
            return available_cpus()
        return 1

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """Settings that are fine on a laptop and dangerous on a server."""
        if self.environment != "production":
            return []
        problems = []
        if self.debug:
            problems.append("ECONFACTS_DEBUG is on")
        if "*" in self.cors_origins and self.cors_allow_credentials:
            problems.append("CORS allows credentials from any origin ('*')")
        if self.data_access == "restricted" and not self.require_key_for_reads:
            problems.append(
                "ECONFACTS_DATA_ACCESS=restricted but reads are open "
                "(set ECONFACTS_REQUIRE_KEY_FOR_READS=true)"
            )
        if self.cursor_secret == DEFAULT_CURSOR_SECRET:
            problems.append("ECONFACTS_CURSOR_SECRET is the development default")
        return problems


def available_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@lru_cache
def get_settings() -> Settings:
    return Settings()
