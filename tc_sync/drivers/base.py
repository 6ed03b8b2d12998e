"""The driver contract: run a parameterised statement, return its columns and rows.

Adapter SQL uses `:name` parameters; each driver translates them to its DB-API paramstyle.
Every driver times its statements so the sync can report the longest one it ran on the PMS.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from tc_sync.config import ConnectionSettings

_NAMED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|--[^\n]*|(?<![:\w]):([A-Za-z_]\w*)")


class DriverError(Exception):
    """The PMS database could not be reached or answered with an error."""


@lru_cache(maxsize=256)
def to_pyformat(sql: str) -> str:
    """`:name` parameters as `%(name)s`, with literal % doubled (pymysql, mysqlclient)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0).replace("%", "%%")
        return f"%({match.group(1)})s"

    return _NAMED.sub(replace, sql)


@lru_cache(maxsize=256)
def to_qmark(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as `?`, with the names in order (ODBC)."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        names.append(match.group(1))
        return "?"

    return _NAMED.sub(replace, sql), tuple(names)


@dataclass
class StatementStats:
    """How many statements ran and the longest one, for reports and benchmarks."""

    statements: int = 0
    total_seconds: float = 0.0
    longest_seconds: float = 0.0
    longest: str = ""
    """What the longest statement was: its SQL's first line (an adapter file's opening
    comment names its stream), never its parameters."""

    def record(self, seconds: float, sql: str = "") -> None:
        self.statements += 1
        self.total_seconds += seconds
        if seconds > self.longest_seconds:
            self.longest_seconds = seconds
            self.longest = statement_label(sql)

    def merge(self, other: StatementStats) -> None:
        """Add another connection's statements to these."""
        self.statements += other.statements
        self.total_seconds += other.total_seconds
        if other.longest_seconds > self.longest_seconds:
            self.longest_seconds, self.longest = other.longest_seconds, other.longest


def statement_label(sql: str) -> str:
    """A statement's first non-blank line, at most 80 characters."""
    first = next((line.strip() for line in sql.splitlines() if line.strip()), "")
    return first[:80]


class Driver(ABC):
    """A read-only connection to one PMS database."""

    name: str = "driver"
    concurrent_reads: bool = False
    """Several connections of this driver may read the PMS at the same time (one thread
    each): an incremental pull then scans key windows side by side."""

    def __init__(self) -> None:
        self.stats = StatementStats()

    @classmethod
    def open(cls, connection: ConnectionSettings) -> Driver:
        """A session on the database a source's `connection:` section names (see
        `drivers.registry`, which chooses the class); raises DriverError."""
        raise NotImplementedError(f"{cls.__name__} cannot be opened from a configuration")

    def query(self, sql: str, params: Mapping[str, Any] | None = None
              ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        """Run one statement; return lower-cased column names and all its rows."""
        started = time.perf_counter()
        try:
            return self._query(sql, params or {})
        finally:
            self.stats.record(time.perf_counter() - started, sql)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        _, rows = self.query(sql, params)
        return rows[0][0] if rows else None

    @abstractmethod
    def _query(self, sql: str, params: Mapping[str, Any]
               ) -> tuple[list[str], Sequence[Sequence[Any]]]: ...

    @abstractmethod
    def server_now(self) -> datetime:
        """The PMS server's clock, in the time zone its timestamps are written in."""

    def write_times(self, tables: Sequence[str]) -> dict[str, datetime]:
        """When each of `tables` was last written, on the server's clock, for those the
        server knows (none, by default)."""
        del tables
        return {}

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
