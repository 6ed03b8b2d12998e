"""One daemon per ledger and source: a second one refuses to start, and says why.

A SQLite ledger is locked with a file beside it. On a PostgreSQL ledger shared by a group's
daemons, each daemon holds a session advisory lock per source it syncs, so two daemons never
sync the same source while each practice's daemon runs freely.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy as sa
from filelock import FileLock, Timeout


class AlreadyRunning(Exception):
    """Another tc-sync daemon holds the ledger (or one of its sources)."""


class DaemonLock:
    """Held for the life of `tc-sync run`."""

    def __init__(self, engine: sa.Engine, source_ids: list[str]) -> None:
        self.engine = engine
        self.source_ids = source_ids
        self._file: FileLock | None = None
        self._connection: sa.Connection | None = None

    def acquire(self) -> None:
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database:
            path = Path(database).with_suffix(".lock")
            self._file = FileLock(path)
            try:
                self._file.acquire(timeout=0)
            except Timeout:
                raise AlreadyRunning(
                    f"another tc-sync daemon is using the ledger {database} "
                    f"(lock file {path}); stop it first") from None
            return
        self._connection = self.engine.connect()
        for source_id in self.source_ids:
            key = zlib.crc32(f"tc-sync:{source_id}".encode())
            held = self._connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            if not held:
                self.release()
                raise AlreadyRunning(
                    f"another tc-sync daemon is syncing source '{source_id}' into this "
                    "ledger; run one daemon per practice")

    def release(self) -> None:
        if self._file is not None:
            self._file.release()
            self._file = None
        if self._connection is not None:
            self._connection.close()           # ends the session: its advisory locks go
            self._connection = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
