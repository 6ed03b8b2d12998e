"""The `logging:`, `http:` and `sentry:` sections of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from tc_sync.config.section import Section


class LoggingSettings(Section):
    """The daemon's JSON log file (the console keeps its readable lines)."""

    file: Path | None = None
    """Default: $LOGS_DIRECTORY (systemd), else a `logs` folder beside a SQLite ledger, else
    $STATE_DIRECTORY/logs, else ./logs; the file is tc-sync.log."""
    max_bytes: int = Field(10 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    """Start a new file when the current one reaches this size."""
    backups: int = Field(10, ge=1, le=1000)
    """Rotated files kept (tc-sync.log.1 ... tc-sync.log.N); older ones are deleted."""
    level: Literal["debug", "info", "warning", "error"] = "info"


class HttpSettings(Section):
    """/healthz and /metrics, served by the daemon."""

    enabled: bool = True
    host: str = "127.0.0.1"
    """Keep it on localhost unless a monitoring server elsewhere must reach it."""
    port: int = Field(9464, ge=0, le=65535)
    """0 picks any free port (tests)."""


class SentrySettings(Section):
    """Error reports and cron check-ins to Sentry; off unless a DSN is set."""

    dsn: SecretStr | None = None
    """A secret: write `dsn: secret:sentry_dsn` and keep the DSN in the secrets folder."""
    environment: str = Field("production", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    monitors: bool = True
    """One cron monitor per source and job: Sentry alerts when a sync does not check in."""
    checkin_margin_minutes: int = Field(10, ge=1, le=1440)
    """How late a check-in may be before Sentry counts it as missed."""
    max_runtime_minutes: int = Field(120, ge=1, le=1440)
    """How long a job may run before Sentry counts it as timed out."""
