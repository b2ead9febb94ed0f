"""Settings: the only place that reads the environment."""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)
# Values people paste from examples; never a real secret.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "change_me", "secret", "placeholder", "dev", "development", "xxx"}
MIN_SECRET_CHARS = 32


class Settings(BaseSettings):
    """Service settings, read from environment variables (and a .env file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        alias="KEPU_DATA_DIR",
        description="Where the SQLite file, the search index and jieba's cache live.",
    )
    database_url: str = Field(
        default="",
        alias="DATABASE_URL",
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/kepu.sqlite3. postgresql:// URLs use psycopg 3.",
    )
    index_dir: Path | None = Field(
        default=None, alias="KEPU_INDEX_DIR", description="Whoosh index folder; default DATA_DIR/index."
    )
    max_notice_bytes: int = Field(
        default=5_000_000, alias="KEPU_MAX_NOTICE_BYTES", description="Largest notice file accepted for import."
    )
    max_query_chars: int = Field(
        default=200, alias="KEPU_MAX_QUERY_CHARS", description="Longest search query accepted (400 beyond)."
    )
    search_cache_size: int = Field(
        default=512, alias="KEPU_SEARCH_CACHE_SIZE", description="Entries in the search result cache; 0 disables it."
    )
    index_sync_seconds: float = Field(
        default=5.0,
        alias="KEPU_INDEX_SYNC_SECONDS",
        gt=0,
        description="How often a serving process checks the store for writes by other processes.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        alias="KEPU_CORS_ORIGINS",
        description="Origins allowed to call the API from a browser (JSON list).",
    )
    log_level: str = Field(default="INFO", alias="KEPU_LOG_LEVEL", description="Python logging level.")
    env: Literal["development", "production"] = Field(
        default="development",
        alias="KEPU_ENV",
        description="production refuses a missing or placeholder KEPU_SECRET_KEY and marks cookies Secure.",
    )
    secret_key: str = Field(
        default="",
        alias="KEPU_SECRET_KEY",
        repr=False,
        description="Signs the sign-in cookie; required outside development (an ephemeral one is made there).",
    )
    auth_failure_limit: int = Field(
        default=10,
        alias="KEPU_AUTH_FAILURE_LIMIT",
        ge=1,
        description="Failed token attempts allowed per client address within the window before 429.",
    )
    auth_failure_window_seconds: float = Field(
        default=300.0,
        alias="KEPU_AUTH_FAILURE_WINDOW_SECONDS",
        gt=0,
        description="The sliding window over which failed token attempts are counted.",
    )
    session_hours: float = Field(
        default=12.0, alias="KEPU_SESSION_HOURS", gt=0, description="How long a sign-in on the pages lasts."
    )
    stale_report_days: int = Field(
        default=30,
        alias="KEPU_STALE_REPORT_DAYS",
        ge=1,
        description="Units with no report for this many days are highlighted on /progress.",
    )
    db_connect_timeout: float = Field(
        default=5.0,
        alias="KEPU_DB_CONNECT_TIMEOUT",
        gt=0,
        description="Seconds to wait for a new PostgreSQL connection (libpq counts at least 2).",
    )
    db_pool_timeout: float = Field(
        default=5.0,
        alias="KEPU_DB_POOL_TIMEOUT",
        gt=0,
        description="Seconds a request waits for a free connection from the pool before a 503.",
    )
    db_statement_timeout: float = Field(
        default=30.0,
        alias="KEPU_DB_STATEMENT_TIMEOUT",
        gt=0,
        description="Longest a PostgreSQL statement may run (statement_timeout) and unacknowledged data may wait (tcp_user_timeout).",
    )
    public_url: str = Field(
        default="",
        alias="KEPU_PUBLIC_URL",
        description="The service's public base URL (https://kepu.example.org) for absolute URLs; empty: the request's own.",
    )
    trusted_hosts: list[str] = Field(
        default_factory=list,
        alias="KEPU_TRUSTED_HOSTS",
        description='Host headers accepted (JSON list, "*.example.org" allowed); empty accepts any. Others get a 400.',
    )
    frame_ancestors: list[str] = Field(
        default_factory=list,
        alias="KEPU_FRAME_ANCESTORS",
        description="Origins allowed to show the pages in a frame (JSON list); empty forbids framing.",
    )
    max_header_bytes: int = Field(
        default=16_384,
        alias="KEPU_MAX_HEADER_BYTES",
        ge=1024,
        description="Largest request line plus headers `kepu serve` reads; larger requests get a 431.",
    )

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, value: str) -> str:
        # "postgresql://" would pick psycopg2, which we do not install.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _secret_outside_development(self) -> Settings:
        # Startup fails on a placeholder secret in production; development gets a fresh one
        # per process (sign-ins then last until a restart, and do not cross workers).
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < MIN_SECRET_CHARS:
            if self.env == "production":
                raise ValueError(
                    f"KEPU_SECRET_KEY must be set to a random value of at least {MIN_SECRET_CHARS} characters "
                    "when KEPU_ENV=production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.secret_key:
                log.warning("KEPU_SECRET_KEY is too short or a placeholder; using an ephemeral secret (development)")
            else:
                log.warning("KEPU_SECRET_KEY is not set; using an ephemeral secret (development only)")
            self.secret_key = secrets.token_urlsafe(48)
        return self

    @field_validator("public_url")
    @classmethod
    def _absolute_base(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("KEPU_PUBLIC_URL must start with http:// or https://")
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The URL to connect to, defaulting to the SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'kepu.sqlite3'}"

    @property
    def resolved_index_dir(self) -> Path:
        """The index folder, defaulting to DATA_DIR/index."""
        return self.index_dir or self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
