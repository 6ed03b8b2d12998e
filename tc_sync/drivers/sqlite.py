"""SQLite driver: reads the demo practice (an Open Dental-shaped SQLite file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tc_sync.config import ConnectionSettings
from tc_sync.drivers.base import Driver, DriverError


def _greatest(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return max(present) if present else None


class SqliteDriver(Driver):
    """Opens the file read-only and gives it MySQL's GREATEST() so adapter SQL runs as is."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        if not path.is_file():
            raise DriverError(f"{path}: no such database file")
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self._connection.create_function("GREATEST", -1, _greatest, deterministic=True)

    @classmethod
    def open(cls, connection: ConnectionSettings) -> SqliteDriver:
        assert connection.path is not None   # the configuration requires it with this driver
        return cls(connection.path)

    def _query(self, sql: str, params: Mapping[str, Any]
               ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        try:
            cursor = self._connection.execute(sql, dict(params))
            rows = cursor.fetchall()
        except sqlite3.Error as error:
            raise DriverError(f"SQLite: {type(error).__name__}: {error}") from error
        columns = [column[0].lower() for column in cursor.description or ()]
        return columns, rows

    def server_now(self) -> datetime:
        return datetime.fromisoformat(str(self.scalar("SELECT datetime('now', 'localtime')")))

    def close(self) -> None:
        self._connection.close()
