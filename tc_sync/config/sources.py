"""The `sources:` section: each PMS database tc-sync pulls, how to reach it and when."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from tc_sync.config.section import Section


class TlsSettings(Section):
    """TLS to the PMS database server."""

    mode: Literal["preferred", "required", "verify", "disabled"] = "preferred"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class OdbcSettings(Section):
    """How to reach a PMS over ODBC (see docs/ODBC.md)."""

    dsn: str | None = None
    """A data source name set up in the ODBC manager (Eaglesoft's is usually DENTAL); the
    connection's user and password are sent with it."""
    connection_string: SecretStr | None = None
    """A whole ODBC connection string, e.g. the one the Dentrix API hands out. It holds a
    credential, so it must come from a secret (secret:NAME), never the YAML file."""
    dialect: Literal["auto", "ctree", "sqlanywhere", "postgresql", "sqlite"] = "auto"
    """The server's SQL dialect; auto asks the ODBC driver which server it talks to."""
    statement_limit: int = Field(300, ge=1, le=86_400)
    """Hang guard: a statement still running after this many seconds is cancelled and its
    connection abandoned; the stream stops at its last committed batch and is reported."""
    fetch_rows: int = Field(1000, ge=1, le=100_000)
    """Rows fetched from the driver at a time within one statement."""
    session: list[str] = Field(default_factory=list)
    """Statements run after each connect, e.g. Eaglesoft's SET TEMPORARY OPTION
    CONNECTION_AUTHORIZATION (write it as secret:NAME: it holds a credential)."""

    @model_validator(mode="after")
    def _dsn_or_string(self) -> OdbcSettings:
        if (self.dsn is None) == (self.connection_string is None):
            raise ValueError("set exactly one of 'dsn' and 'connection_string'")
        return self


class ConnectionSettings(Section):
    """How to reach a PMS database: MySQL (auto, pymysql, mysqlclient), `sqlite` for the demo
    practice, or ODBC (`odbc` holds the rest). Which one a PMS needs is its adapter's
    `driver:`; `tc_sync.drivers.registry` maps each name to its class."""

    driver: Literal["auto", "pymysql", "mysqlclient", "sqlite", "odbc"] = "auto"
    odbc: OdbcSettings | None = None
    """With driver odbc: the DSN or connection string, dialect and hang guard."""
    host: str = "127.0.0.1"
    port: int = Field(3306, ge=1, le=65535)
    database: str = "opendental"
    user: str = "tc_sync"
    password: SecretStr | None = None
    path: Path | None = None
    """The SQLite file, when driver is sqlite."""
    tls: TlsSettings = Field(default_factory=TlsSettings)
    connect_timeout: int = Field(10, ge=1, le=600)
    read_timeout: int = Field(120, ge=1, le=3600)
    write_timeout: int = Field(60, ge=1, le=3600)
    retries: int = Field(4, ge=0, le=20)
    """Retries of a statement or connection after a transient error (lost connection, server
    gone, lock wait, deadlock), with jittered exponential backoff."""
    retry_max_wait: float = Field(30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _sqlite_needs_path(self) -> ConnectionSettings:
        if self.driver == "sqlite" and self.path is None:
            raise ValueError("driver sqlite needs 'path' (the SQLite file to read)")
        if self.driver == "odbc" and self.odbc is None:
            raise ValueError("driver odbc needs an 'odbc' section (dsn or connection_string)")
        return self


class ScheduleSettings(Section):
    """When a source is pulled."""

    interval_seconds: int = Field(300, ge=30, le=86_400)
    """An incremental scan this often: every change, deletes included, is in the ledger
    within this many seconds (plus the scan's own time), whatever the PMS logs; but see
    `hinted_scan_seconds`."""
    hint_seconds: int = Field(15, ge=0, le=3_600)
    """Between scans, a PMS that logs its changes (Open Dental's audit trail) is asked this
    often which patients changed, and only those are re-read. 0: scans only."""
    hinted_scan_seconds: int = Field(1800, ge=0, le=86_400)
    """While the hints keep up, a scan walks a table they re-read (appointments, procedures,
    claims...) once in this time, not every scan: a change the PMS does not log there is in
    the ledger within this many seconds plus `interval_seconds`. 0: every scan."""
    full_sweep_at: str = Field("02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_windows: list[str] = Field(default_factory=list)
    """Times of day with no pull (the practice's backup): ["01:00-03:00", "22:30-23:00"]."""

    @field_validator("quiet_windows")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            if not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", window):
                raise ValueError(f"'{window}' is not a window like 01:00-03:00")
        return value


class SourceSettings(Section):
    """One PMS database: a practice, or one location of a group."""

    kind: str
    """The PMS: the name of its adapter folder (the site's `adapters_dir`, or the shipped
    adapters/). `tc_sync.adapter.registry` checks that the folder exists and that
    `connection.driver` runs its SQL; this package cannot, as it imports none of the rest."""
    connection: ConnectionSettings = Field(default_factory=ConnectionSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    enabled: bool = True
    streams: list[str] | None = None
    """Pull only these streams (default: every stream of the adapter)."""
    overrides: Path | None = None
    """This site's table and column names, codes, values and cursors for its adapter
    (ODBC adapters): a YAML file holding only what differs (docs/ODBC.md)."""
