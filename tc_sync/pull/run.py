"""Pull a source into the ledger: every stream, batch by batch, each batch one transaction.

A batch's replica rows, quarantined rows and the stream's cursor commit together, so a pull cut
short (crash, lost connection) loses nothing and resumes from its last committed batch. A
stream that fails is reported and the others go on; a failed or partial run is recorded as
such, and nothing it did not read is ever treated as deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from threading import Event
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import Adapter, AdapterError, Stream
from tc_sync.config import SourceSettings, SyncSettings
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.drivers.registry import open_driver
from tc_sync.ledger.db import LedgerError, ledger_write_problem
from tc_sync.ledger.schema import cursors as cursors_table
from tc_sync.ledger.state import StreamTotals, finish_run, start_run, touch_source
from tc_sync.pull.cursor_store import HINTS_CURSOR
from tc_sync.pull.hinted_scans import left_to_hints
from tc_sync.pull.key_windows import WindowReader
from tc_sync.pull.progress import Progress
from tc_sync.pull.stream import PmsClock, PullStopped, StreamPuller

log = structlog.get_logger(__name__)

DEFERRED = "deferred"
"""A stream's mode in a scan that left it to the change hints (`pull.hinted_scans`)."""


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
    longest_statement: str = ""
    """The first line of the longest statement's SQL (`drivers.base.statement_label`)."""
    pms_title: str | None = None
    """What the source's adapter calls its PMS (None when the adapter could not be loaded)."""

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.streams)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.streams)


def _pull_streams(engine: sa.Engine, reader: WindowReader, clock: PmsClock,
                  streams: Sequence[Stream], options: SyncSettings, result: RunResult, *,
                  full: bool, stop: Event | None, progress: Progress | None = None,
                  hinted_every: timedelta | None = None) -> None:
    """Pull each stream in turn into `result`; one stream's failure does not stop the rest.
    With `hinted_every`, a stream the change hints re-read is left to them until its walk is
    due."""
    failures = 0
    deferred: set[str] = set()
    if hinted_every is not None and not full:
        deferred = left_to_hints(engine, result.source_id, streams, hinted_every, clock.now,
                                 timedelta(seconds=options.safety_lag_seconds))
        if deferred:
            log.info("streams_left_to_hints", source=result.source_id, streams=sorted(deferred))
    for stream in streams:
        if stream.name in deferred:
            result.streams.append(StreamTotals(stream.name, DEFERRED, completed=True))
            continue
        puller = StreamPuller(engine, reader.driver, result.source_id, stream, options,
                              result.run_id, stop, reader, clock, progress)
        try:
            totals = puller.pull(full)
            result.streams.append(totals)
            _stream_pulled(result.source_id, totals)
            if progress is not None:
                progress(puller.standing(totals, None, done=True))
        except PullStopped:
            result.streams.append(StreamTotals(stream.name, "stopped"))
            failures = -1
            break
        except (DriverError, AdapterError) as error:
            failures += 1
            result.streams.append(StreamTotals(stream.name, "failed"))
            result.error = f"{stream.name}: {error}"
            result.error_class = type(error).__name__
            log.error("stream_failed", source=result.source_id, stream=stream.name,
                      error_class=type(error).__name__)
    result.outcome = "stopped" if failures < 0 else "ok" if failures == 0 else (
        "partial" if failures < len(result.streams) else "failed")


def _stream_pulled(source_id: str, totals: StreamTotals) -> None:
    """One log event per stream: its mode, counts and rate (no row values)."""
    log.info("stream_pulled", source=source_id, stream=totals.stream, mode=totals.mode,
             rows_read=totals.rows_read, inserted=totals.rows_inserted,
             updated=totals.rows_updated, deleted=totals.rows_deleted,
             quarantined=totals.rows_quarantined, seconds=round(totals.seconds, 3),
             rows_per_second=round(totals.rows_read / totals.seconds) if totals.seconds else 0)


def first_sync(connection: sa.Connection, source_id: str) -> bool:
    """True when no stream of this source has a cursor yet: every stream is read whole."""
    return connection.execute(sa.select(sa.func.count()).select_from(cursors_table).where(
        cursors_table.c.source_id == source_id,
        cursors_table.c.stream != HINTS_CURSOR)).scalar() == 0


def sync_source(
    engine: sa.Engine, source_id: str, source: SourceSettings, options: SyncSettings, *,
    full: bool = False, adapter: Adapter | None = None,
    driver_factory: Callable[[SourceSettings], Driver] = open_driver,
    adapters_dir: Any = None, stop: Event | None = None, progress: Progress | None = None,
    hinted_every: timedelta | None = None,
) -> RunResult:
    """Pull every stream of one source into the ledger; never raises for PMS problems.

    A ledger that refuses writes (its disk full) raises `LedgerError`, after saying so on the
    run's record when that can still be written.

    Setting `stop` ends the run after the batch in flight commits (outcome 'stopped').
    `progress` is told how each stream's pull stands after every batch.
    `hinted_every` (the daemon's scans): while the change hints keep up, a stream they re-read
    is walked once in that time, not every scan (`pull.hinted_scans`); the rest are `deferred`.
    A source's first sync (no cursor yet) reads every row, so it is logged as `full`.
    """
    started = time.perf_counter()
    with engine.begin() as connection:
        first = first_sync(connection, source_id)
        run_id = start_run(connection, source_id, "full" if full or first else "incremental")
    result = RunResult(source_id, run_id, "failed", None)
    log.info("sync_started", source=source_id, run_id=run_id, full=full or first, first=first)
    driver: Driver | None = None
    reader: WindowReader | None = None
    try:
        adapter = adapter or load_adapter(source.kind, adapters_dir, source.overrides)
        result.pms_title = adapter.manifest.title
        driver = driver_factory(source)
        version = str(driver.scalar(adapter.manifest.version.query) or "")
        adapter.check_version(version)
        result.pms_version = version
        with engine.begin() as connection:
            touch_source(connection, source_id, source.kind, version)
        only = set(source.streams) if source.streams else None
        extra = (lambda: driver_factory(source)) if driver.concurrent_reads else None
        reader = WindowReader(driver, extra, options.scan_connections)
        streams = adapter.streams(version, only)
        clock = PmsClock(driver.server_now(), driver.write_times(
            sorted({table for stream in streams for table in stream.spec.watched_tables})))
        _pull_streams(engine, reader, clock, streams, options, result, full=full, stop=stop,
                      progress=progress, hinted_every=hinted_every)
    except (DriverError, AdapterError) as error:
        result.error = str(error)
        result.error_class = type(error).__name__
        log.error("sync_failed", source=source_id, error_class=type(error).__name__)
    except sa.exc.SQLAlchemyError as error:   # the ledger refused a write: say why on the run
        problem = ledger_write_problem(error)
        result.error = f"the ledger refused a write: {problem or type(error).__name__}"
        result.error_class = "LedgerError"
        if problem is not None:
            raise LedgerError(problem) from error
        raise
    finally:
        if reader is not None:
            stats = reader.stats()
            result.statements = stats.statements
            result.longest_statement_seconds = stats.longest_seconds
            result.longest_statement = stats.longest
            reader.close()
        if driver is not None:
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
             seconds=round(result.seconds, 3), statements=result.statements,
             longest_statement_ms=round(result.longest_statement_seconds * 1000),
             longest_statement=result.longest_statement)
    return result
