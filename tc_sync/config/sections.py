"""The ledger, sync, health, retention and queues sections of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tc_sync.config.section import Section


class LedgerSettings(Section):
    """Where the coordination ledger lives."""

    url: str = "sqlite:///tc-sync-ledger.db"
    connections: int = Field(2, ge=1, le=50)
    """PostgreSQL: the most connections one tc-sync process opens (its pool); jobs wait their
    turn for one. Size the server for `connections` x daemons (docs/INSTALL.md)."""
    lease_seconds: int = Field(60, ge=10, le=3600)
    """PostgreSQL: a daemon's claim on its sources, renewed every third of this; a daemon
    killed without a goodbye gives its sources up after it (another may then take them)."""

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///path/to/ledger.db or postgresql+psycopg://...")
        return value


class SyncSettings(Section):
    """How pulls are cut into statements and batches."""

    batch_size: int = Field(5000, ge=1, le=100_000)
    window_keys: int = Field(50_000, ge=1_000, le=10_000_000)
    """An incremental pull scans at most this many keys per statement."""
    scan_connections: int = Field(2, ge=1, le=8)
    """PMS connections an incremental pull scans key windows on side by side (MySQL only):
    finding changed rows is the PMS server's work, and each connection uses one of its cores.
    1 reads one window at a time."""
    safety_lag_seconds: int = Field(120, ge=0, le=86_400)
    """Re-read rows changed this long before the last pull began (late commits, clock skew)."""
    deletes_each_cycle: bool = True
    """An incremental pull of a table the PMS deletes rows from (the adapter's `hard_deletes`)
    also finds the rows deleted since: key counts per window of `window_keys`, then the keys
    of the windows that differ. False leaves deletes to the nightly full sweep."""


class HealthSettings(Section):
    """When a source's data counts as stale: green, then amber, then red."""

    amber_after_minutes: int = Field(30, ge=1, le=10_080)
    """Amber when the last successful sync is older than this, or the last run failed."""
    red_after_minutes: int = Field(240, ge=1, le=43_200)
    """Red when the last successful sync is older than this, or there has never been one."""

    @model_validator(mode="after")
    def _ordered(self) -> HealthSettings:
        if self.red_after_minutes <= self.amber_after_minutes:
            raise ValueError("red_after_minutes must be more than amber_after_minutes")
        return self


class RetentionSettings(Section):
    """How long run history and finished outbox rows stay in the ledger (items and their
    history stay for good). The daemon prunes once a day, in small batches."""

    runs_days: int = Field(400, ge=30, le=36_500)
    """Sync runs started longer ago than this are deleted (each source's newest run and
    newest successful run always stay)."""
    unchanged_runs_days: int = Field(7, ge=1, le=36_500)
    """Successful runs that changed nothing (most runs of an always-on daemon), and looks at
    the change hints, are deleted after this many days instead."""
    outbox_days: int = Field(180, ge=30, le=36_500)
    """Sent or cancelled tasks and alerts finished longer ago than this are deleted, once
    their item is resolved as long ago (dead letters stay until retried)."""
    batch_rows: int = Field(1000, ge=10, le=100_000)
    """Rows deleted per transaction."""
    at: str = Field("03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """When the daily pruning starts (the practice's time; up to 15 minutes later, so a
    group's daemons do not all prune at once)."""


QueueFormat = Literal["xlsx", "csv", "html"]
QUEUE_FORMATS: tuple[QueueFormat, ...] = ("xlsx", "csv", "html")


class QueuesSettings(Section):
    """Coordinators' work queues: files rebuilt from the open items after every sync."""

    enabled: bool = True
    folder: Path | None = None
    """Where the files go: a shared folder coordinators open. Default: `queues` beside a
    SQLite ledger, else `./queues`. The files hold patient names, so the folder's own
    permissions decide who may read them."""
    formats: list[QueueFormat] = Field(default_factory=lambda: list(QUEUE_FORMATS))
    group: str | None = Field(None, min_length=1, max_length=64)
    """The group (Linux) given the files, readable by it (0640): the coordinators' group, or
    the one the file share (Samba) reads as. None: the service account's own group. Windows
    ignores it: the folder's ACL decides (docs/INSTALL.md)."""
    per_clinic: bool = False
    """Also write each clinic's queues into a folder of its own, named after the clinic."""
    every_seconds: int = Field(30, ge=5, le=3_600)
    """Between scans, the daemon rewrites the files at most this often when change hints
    moved items, and never more often than ten times a build takes (the median of the last
    five: building them takes about a tenth of a core at most, however large the practice).
    After a scan: always."""

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[QueueFormat]) -> list[QueueFormat]:
        if not value:
            raise ValueError("name at least one of xlsx, csv, html (or set enabled: false)")
        if len(set(value)) != len(value):
            raise ValueError("a format is listed twice: name each once")
        return value

