"""Pull a source into the ledger: every stream, batch by batch, each batch one transaction.

A batch's replica rows, quarantined rows and the stream's cursor commit together, so a pull cut
short (crash, lost connection) loses nothing and resumes from its last committed batch. A
stream that fails is reported and the others go on; a failed or partial run is recorded as
such, and nothing it did not read is ever treated as deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from threading import Event
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.adapters import Adapter, AdapterError, Stream, load_adapter
from tc_sync.config import SourceSettings, SyncSettings
from tc_sync.convert import RowError
from tc_sync.cursors import Cursor, Pull, PullMode, advance, batch_end, begin_pull, finish, window
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.ledger.replica import BatchChanges, ReplicaWriter
from tc_sync.ledger.state import (
    BadRow,
    StreamTotals,
    finish_run,
    hold,
    load_cursor,
    now_utc,
    open_quarantine,
    release,
    save_cursor,
    start_run,
    touch_source,
)

log = structlog.get_logger(__name__)

_BEYOND_ANY_KEY = 2**62


def open_driver(source: SourceSettings) -> Driver:
    """Connect to a source's PMS database with the driver its configuration names."""
    connection = source.connection
    if connection.driver == "odbc":
        from tc_sync.drivers.odbc import OdbcDriver

        return OdbcDriver(connection)
    if connection.driver == "sqlite":
        from tc_sync.drivers.sqlite import SqliteDriver

        assert connection.path is not None
        return SqliteDriver(connection.path)
    from tc_sync.drivers.mysql import MysqlDriver

    return MysqlDriver(connection)


@dataclass
class RunResult:
    """What one sync run of one source did."""

    source_id: str
    run_id: int
    outcome: str
    pms_version: str | None
    streams: list[StreamTotals] = field(default_factory=list)
    error: str | None = None
    error_class: str | None = None
    seconds: float = 0.0
    statements: int = 0
    longest_statement_seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.streams)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.streams)


@dataclass(frozen=True)
class Batch:
    """One batch ready to commit: converted rows, bad rows, what it covers, the new cursor."""

    rows_read: int
    good: list[tuple[Any, ...]]
    bad: list[BadRow]
    full_range: tuple[int, int] | None
    cursor: Cursor


class PullStopped(Exception):
    """The daemon is stopping: the pull ended after its last committed batch."""


class StreamPuller:
    """Pulls one stream of one source, committing each batch with its cursor."""

    def __init__(self, engine: sa.Engine, driver: Driver, source_id: str, stream: Stream,
                 options: SyncSettings, run_id: int, stop: Event | None = None) -> None:
        self.engine = engine
        self.driver = driver
        self.source_id = source_id
        self.stream = stream
        self.options = options
        self.run_id = run_id
        self.stop = stop
        self.writer = ReplicaWriter(stream.converter.record, source_id, engine.dialect)

    def _convert(self, rows: Sequence[Sequence[Any]], columns: list[str],
                 positions: tuple[int, ...]) -> tuple[list[tuple[Any, ...]], list[BadRow]]:
        convert = self.stream.converter.for_positions(
            positions, temporal_as_text=self.writer.temporal_as_text)
        good: list[tuple[Any, ...]] = []
        bad: list[BadRow] = []
        key_position = positions[0]
        for row in rows:
            try:
                values = convert(row)
            except RowError as error:
                bad.append(BadRow(int(row[key_position]), error.field, str(error),
                                  dict(zip(columns, row, strict=True))))
                continue
            good.append(values)
        return good, bad

    def _positions(self, columns: list[str]) -> tuple[int, ...]:
        try:
            return self.stream.converter.positions(columns)
        except KeyError as error:
            raise AdapterError(
                f"{self.stream.sql_file} does not return the column(s) {error.args[0]} that "
                f"record '{self.stream.spec.record}' needs") from None

    def pull(self, full: bool) -> StreamTotals:
        """Run (or resume) this stream's pull to the end.

        Reading the PMS and writing the ledger overlap: while one batch commits on a writer
        thread (SQLite and PostgreSQL release the GIL), the next is read and converted. At most
        one batch waits, so memory stays bounded by two batches.
        """
        spec = self.stream.spec
        started = time.perf_counter()
        with self.engine.begin() as connection:
            cursor = load_cursor(connection, self.source_id, self.stream.name)
            held = open_quarantine(connection, self.source_id, self.stream.name)
        now = self.driver.server_now()
        if not full and self._unchanged_since_cursor(cursor):
            return self._skip(cursor, now, started)
        max_key = int(self.driver.scalar(f"SELECT MAX({spec.key}) FROM {spec.table}") or 0)
        pull = begin_pull(cursor, full=full, incremental_stream=self.stream.incremental,
                          now=now, max_key=max_key)
        totals = StreamTotals(self.stream.name, pull.mode)
        positions: tuple[int, ...] | None = None
        lag = timedelta(seconds=self.options.safety_lag_seconds)
        with ThreadPoolExecutor(1, thread_name_prefix="tc-sync-ledger") as writer:
            pending: Future[None] | None = None
            while True:
                if self.stop is not None and self.stop.is_set():
                    if pending is not None:
                        pending.result()
                    raise PullStopped
                low, high = window(pull, self.options.window_keys)
                rows: Sequence[Sequence[Any]] = ()
                columns: list[str] = []
                if not pull.done:
                    columns, rows = self.driver.query(self.stream.sql, {
                        "after_key": low, "until_key": high, "since": pull.since,
                        "batch_size": self.options.batch_size})
                if rows and positions is None:
                    positions = self._positions(columns)
                last_key = int(rows[-1][positions[0]]) if rows and positions else None
                covered = batch_end(pull, high, len(rows), self.options.batch_size, last_key)
                pull = advance(pull, covered)
                if rows or pull.mode == "full" or pull.done:
                    good, bad = self._convert(rows, columns, positions) if positions else (
                        [], [])
                    cursor = finish(cursor, pull, lag) if pull.done else replace(
                        cursor, pull=pull)
                    full_range = None
                    if pull.mode == "full":
                        full_range = (low, _BEYOND_ANY_KEY if pull.done else covered)
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(self._commit, Batch(
                        len(rows), good, bad, full_range, cursor), held, totals)
                if pull.done:
                    break
            if pending is not None:
                pending.result()
        totals.completed = True
        totals.seconds = time.perf_counter() - started
        return totals

    def _unchanged_since_cursor(self, cursor: Cursor) -> bool:
        """True when the PMS says no watched table was written since the cursor."""
        if cursor.since is None or (cursor.pull is not None and not cursor.pull.done):
            return False
        last_write = self.driver.last_write(self.stream.spec.watched_tables)
        return last_write is not None and last_write < cursor.since

    def _skip(self, cursor: Cursor, now: datetime, started: float) -> StreamTotals:
        """Record a pull that had nothing to read: the cursor moves on, nothing else."""
        mode: PullMode = "incremental" if self.stream.incremental else "full"
        skipped = Pull(mode=mode, since=cursor.since, started_at=now, after_key=0, until_key=0)
        lag = timedelta(seconds=self.options.safety_lag_seconds)
        with self.engine.begin() as connection:
            save_cursor(connection, self.source_id, self.stream.name,
                        replace(finish(cursor, skipped, lag),
                                last_full_pull=cursor.last_full_pull))
        return StreamTotals(self.stream.name, "unchanged", completed=True,
                            seconds=time.perf_counter() - started)

    def _commit(self, batch: Batch, held: set[int], totals: StreamTotals) -> None:
        """Write one batch, its quarantined rows and the cursor in one ledger transaction."""
        with self.engine.begin() as connection:
            changes: BatchChanges = self.writer.apply(
                connection, batch.good, now=now_utc(), full_range=batch.full_range,
                also_present=[b.key for b in batch.bad])
            if batch.bad:
                hold(connection, self.source_id, self.stream.name, self.stream.spec.table,
                     batch.bad, self.run_id, held)
            if held:
                release(connection, self.source_id, self.stream.name,
                        [values[0] for values in batch.good if values[0] in held], held)
            save_cursor(connection, self.source_id, self.stream.name, batch.cursor)
        totals.rows_read += batch.rows_read
        totals.rows_inserted += len(changes.inserted)
        totals.rows_updated += len(changes.updated)
        totals.rows_deleted += len(changes.deleted)
        totals.rows_quarantined += len(batch.bad)
        if batch.bad:
            log.warning("rows_quarantined", stream=self.stream.name, count=len(batch.bad),
                        keys=[b.key for b in batch.bad[:20]],
                        fields=sorted({str(b.field) for b in batch.bad}))


def sync_source(
    engine: sa.Engine, source_id: str, source: SourceSettings, options: SyncSettings, *,
    full: bool = False, adapter: Adapter | None = None,
    driver_factory: Callable[[SourceSettings], Driver] = open_driver,
    adapters_dir: Any = None, stop: Event | None = None,
) -> RunResult:
    """Pull every stream of one source into the ledger; never raises for PMS problems.

    Setting `stop` ends the run after the batch in flight commits (outcome 'stopped').
    """
    started = time.perf_counter()
    with engine.begin() as connection:
        run_id = start_run(connection, source_id, "full" if full else "incremental")
    result = RunResult(source_id, run_id, "failed", None)
    log.info("sync_started", source=source_id, run_id=run_id, full=full)
    driver: Driver | None = None
    try:
        adapter = adapter or load_adapter(source.kind, adapters_dir, source.overrides)
        driver = driver_factory(source)
        version = str(driver.scalar(adapter.manifest.version.query) or "")
        adapter.check_version(version)
        result.pms_version = version
        with engine.begin() as connection:
            touch_source(connection, source_id, source.kind, version)
        only = set(source.streams) if source.streams else None
        failures = 0
        for stream in adapter.streams(version, only):
            puller = StreamPuller(engine, driver, source_id, stream, options, run_id, stop)
            try:
                result.streams.append(puller.pull(full))
            except PullStopped:
                result.streams.append(StreamTotals(stream.name, "stopped"))
                failures = -1
                break
            except (DriverError, AdapterError) as error:
                failures += 1
                result.streams.append(StreamTotals(stream.name, "failed"))
                result.error = f"{stream.name}: {error}"
                result.error_class = type(error).__name__
                log.error("stream_failed", source=source_id, stream=stream.name,
                          error_class=type(error).__name__)
        result.outcome = "stopped" if failures < 0 else "ok" if failures == 0 else (
            "partial" if failures < len(result.streams) else "failed")
    except (DriverError, AdapterError) as error:
        result.error = str(error)
        result.error_class = type(error).__name__
        log.error("sync_failed", source=source_id, error_class=type(error).__name__)
    finally:
        if driver is not None:
            result.statements = driver.stats.statements
            result.longest_statement_seconds = driver.stats.longest_seconds
            driver.close()
        result.seconds = time.perf_counter() - started
        with engine.begin() as connection:
            finish_run(connection, run_id, outcome=result.outcome, totals=result.streams,
                       pms_version=result.pms_version, statements=result.statements,
                       longest_statement_seconds=result.longest_statement_seconds,
                       error_class=result.error_class,
                       error_detail=result.error)
    log.info("sync_finished", source=source_id, run_id=run_id, outcome=result.outcome,
             rows=result.rows_read, quarantined=result.rows_quarantined,
             seconds=round(result.seconds, 3))
    return result
