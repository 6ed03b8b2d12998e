"""Change hints: between incremental scans, re-read only the patients the PMS says changed.

An adapter with `hints` (Open Dental: its audit trail, securitylog, indexed on the time of each
entry) names the patients whose records staff changed since the last look: one indexed range
read, two statements in all when nothing changed. For those patients each stream with a
`patient` column is re-read (`pull.patient_rows`), deletes included, and recorded as a run of
mode `hinted`. A change the PMS does not log is found by a later incremental scan: the next
(`schedule.interval_seconds`), or, in a stream the hints re-read while they keep up, the next
that walks it (`pull.hinted_scans`, `schedule.hinted_scan_seconds`).

Hints start after the source's first complete sync, reading the trail from where its streams'
cursors stand (so nothing written since that sync began goes unread), and each look goes back
`HINT_LAG` behind the PMS clock of the previous one, so an entry written while it was being
read is read again. The looks' cursor thus covers the trail without a gap, which lets a scan
leave the streams they re-read alone for a while (`pull.hinted_scans`).

So each entry is read by two or three looks. When the hints give each entry's key and time
(`entry_id`, `logged_at`), a look re-reads only the patients of entries no earlier look has
settled: an entry is settled once a look whose PMS clock was `SETTLE` past the entry's time
saw it and its patients were re-read in full (the change an entry records is written within
moments of it, by the same client). What is settled is kept in memory, per ledger and source,
for the next look only, and only while the cursor is where that look left it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Event
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
import structlog

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import Adapter, AdapterError
from tc_sync.config import SourceSettings, SyncSettings
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.drivers.registry import open_driver
from tc_sync.ledger.state import StreamTotals, finish_run, start_run
from tc_sync.pull.cursor_store import HINTS_CURSOR, first_walked, load_cursor, save_cursor
from tc_sync.pull.cursors import Cursor
from tc_sync.pull.patient_rows import MODE, PatientRows
from tc_sync.pull.run import RunResult, first_sync
from tc_sync.pull.stream import PullStopped, StreamPuller

log = structlog.get_logger(__name__)

HINT_LAG = timedelta(seconds=30)
SETTLE = timedelta(seconds=5)
"""How long past an entry's time a look must be for its re-read to have seen the change the
entry records."""
PATIENTS_PER_STATEMENT = 500
_CLOCK_STEP = timedelta(seconds=1)
"""The audit trail's clock resolution."""
_FAILING: dict[str, str] = {}
"""Sources whose last look at the hints failed, with the error's class."""


@dataclass(frozen=True)
class _Settled:
    """The entries a look settled, and the cursor it left: the next look starts there."""

    cursor: datetime
    entries: frozenset[int]


_SETTLED: WeakKeyDictionary[sa.Engine, dict[str, _Settled]] = WeakKeyDictionary()
"""By ledger and source: what the last look settled (`SETTLE`)."""


@dataclass(frozen=True)
class HintedRun:
    """What one look at the hints found, and the run that re-read those patients (None when
    there was nothing to read, or more than one look takes: `overflow`, a scan's work)."""

    patients: int
    overflow: bool = False
    run: RunResult | None = None


def sync_hinted(
    engine: sa.Engine, source_id: str, source: SourceSettings, options: SyncSettings, *,
    adapter: Adapter | None = None,
    driver_factory: Callable[[SourceSettings], Driver] = open_driver,
    adapters_dir: Any = None, stop: Event | None = None,
) -> HintedRun:
    """Read the source's change hints and re-read the patients they name; never raises for
    PMS problems (the run records them, and the hints are read again next time)."""
    try:
        adapter = adapter or load_adapter(source.kind, adapters_dir, source.overrides)
        sql = adapter.hints_sql()
    except AdapterError as error:
        log.error("hints_unavailable", source=source_id, error_class=type(error).__name__)
        return HintedRun(0)
    if sql is None:
        return HintedRun(0)
    with engine.connect() as connection:
        if first_sync(connection, source_id):
            return HintedRun(0)     # the first sync reads everything
        cursor = load_cursor(connection, source_id, HINTS_CURSOR)
        if cursor.since is None:    # the first look reads from the first sync on: no gap
            cursor = Cursor(since=first_walked(connection, source_id))
    try:    # no retrying a PMS that is down: the scan does that, and says so
        driver = driver_factory(source.model_copy(update={
            "connection": source.connection.model_copy(update={"retries": 0})}))
    except DriverError as error:
        _failed(source_id, error)
        return HintedRun(0)
    try:
        return _look(engine, driver, adapter, sql, cursor, source_id, source, options, stop)
    finally:
        driver.close()


def _look(engine: sa.Engine, driver: Driver, adapter: Adapter, sql: str, cursor: Cursor,
          source_id: str, source: SourceSettings, options: SyncSettings,
          stop: Event | None) -> HintedRun:
    try:
        now = driver.server_now()
        since = cursor.since or now - HINT_LAG
        columns, rows = driver.query(sql, {"since": since, "batch_size": options.batch_size})
    except DriverError as error:
        _failed(source_id, error)
        return HintedRun(0)
    if _FAILING.pop(source_id, None) is not None:
        log.info("hints_recovered", source=source_id)
    kept = _SETTLED.setdefault(engine, {})
    earlier = kept.pop(source_id, None)
    settled = earlier.entries if earlier is not None and earlier.cursor == since else frozenset()
    entries = _Entries(columns, rows)
    patients = entries.patients(unless=settled)
    looked = Cursor(since=max(since, now - HINT_LAG))
    if len(rows) >= options.batch_size:   # a bulk change: the scan, run now, reads all of it
        _save(engine, source_id, Cursor(since=now + _CLOCK_STEP))   # so no look goes back
        log.info("hints_overflow", source=source_id, patients=len(entries.patients()))
        return HintedRun(len(entries.patients()), overflow=True)
    run = None
    if patients:
        run = _reread(engine, driver, adapter, source_id, source, options, patients, stop)
        if run.outcome != "ok":
            return HintedRun(len(patients), run=run)    # read again, in full, next look
    _save(engine, source_id, looked)
    if looked.since is not None:
        kept[source_id] = _Settled(looked.since, entries.settled(now - SETTLE))
    return HintedRun(len(patients), run=run)


class _Entries:
    """The rows of the hints query: a patient each, with the entry's key and time if given."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.patient = columns.index("patient_id") if "patient_id" in columns else 0
        timed = "entry_id" in columns and "logged_at" in columns
        self.entry = columns.index("entry_id") if timed else None
        self.logged = columns.index("logged_at") if timed else None
        self.rows = rows

    def patients(self, unless: frozenset[int] = frozenset()) -> list[int]:
        """The patients named by an entry not in `unless`, in order."""
        entry = self.entry
        return sorted({int(row[self.patient]) for row in self.rows
                       if entry is None or int(row[entry]) not in unless})

    def settled(self, before: datetime) -> frozenset[int]:
        """The entries written at or before `before` (none without keys and times)."""
        if self.entry is None or self.logged is None:
            return frozenset()
        entry, logged = self.entry, self.logged
        return frozenset(int(row[entry]) for row in self.rows
                         if (at := _moment(row[logged])) is not None and at <= before)


def _moment(value: object) -> datetime | None:
    """A time as the driver gives it (a datetime, or its text); None if it is neither."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, bytes | str):
        try:
            return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
        except ValueError:
            return None
    return None


def _failed(source_id: str, error: Exception) -> None:
    """Say once (not every few seconds) that a source's hints cannot be read: its scans go on,
    and read every stream, so changes arrive within `interval_seconds` meanwhile."""
    kind = type(error).__name__
    if _FAILING.get(source_id) != kind:
        log.warning("hints_failed", source=source_id, error_class=kind)
    _FAILING[source_id] = kind


def _save(engine: sa.Engine, source_id: str, cursor: Cursor) -> None:
    with engine.begin() as connection:
        save_cursor(connection, source_id, HINTS_CURSOR, cursor)


def _reread(engine: sa.Engine, driver: Driver, adapter: Adapter, source_id: str,
            source: SourceSettings, options: SyncSettings, patients: Sequence[int],
            stop: Event | None) -> RunResult:
    """Every stream with a patient column, re-read for `patients`, recorded as one run."""
    started, cpu_started = time.perf_counter(), time.thread_time()
    with engine.begin() as connection:
        run_id = start_run(connection, source_id, MODE)
    result = RunResult(source_id, run_id, "failed", None, pms_title=adapter.manifest.title)
    failures = 0
    try:
        version = str(driver.scalar(adapter.manifest.version.query) or "")
        adapter.check_version(version)
        result.pms_version = version
        only = set(source.streams) if source.streams else None
        streams = [stream for stream in adapter.streams(version, only)
                   if stream.spec.patient is not None]
        for stream in streams:
            _stop_if_asked(stop)
            puller = StreamPuller(engine, driver, source_id, stream, options, run_id)
            reader = PatientRows(engine, driver, puller, options.batch_size)
            try:
                result.streams.append(_each_chunk(reader, patients, run_id))
            except (DriverError, AdapterError) as error:
                failures += 1
                result.streams.append(StreamTotals(stream.name, "failed"))
                result.error = f"{stream.name}: {error}"
                result.error_class = type(error).__name__
                log.error("stream_failed", source=source_id, stream=stream.name, mode=MODE,
                          error_class=type(error).__name__)
        result.outcome = "ok" if failures == 0 else (
            "partial" if failures < len(streams) else "failed")
    except PullStopped:
        result.outcome = "stopped"
    except (DriverError, AdapterError) as error:
        result.error, result.error_class = str(error), type(error).__name__
        log.error("sync_failed", source=source_id, mode=MODE, error_class=result.error_class)
    finally:
        result.statements = driver.stats.statements
        result.longest_statement_seconds = driver.stats.longest_seconds
        result.longest_statement = driver.stats.longest
        result.seconds = time.perf_counter() - started
        with engine.begin() as connection:
            finish_run(connection, run_id, outcome=result.outcome, totals=result.streams,
                       pms_version=result.pms_version, statements=result.statements,
                       longest_statement_seconds=result.longest_statement_seconds,
                       error_class=result.error_class, error_detail=result.error)
    log.info("hinted_sync_finished", source=source_id, run_id=run_id,
             outcome=result.outcome, patients=len(patients), rows=result.rows_read,
             deleted=sum(t.rows_deleted for t in result.streams),
             statements=result.statements, seconds=round(result.seconds, 3),
             cpu_seconds=round(time.thread_time() - cpu_started, 3),
             longest_statement_ms=round(result.longest_statement_seconds * 1000),
             longest_statement=result.longest_statement)
    return result


def _stop_if_asked(stop: Event | None) -> None:
    if stop is not None and stop.is_set():
        raise PullStopped


def _each_chunk(reader: PatientRows, patients: Sequence[int], run_id: int) -> StreamTotals:
    """The stream re-read for every patient, a few hundred patients per statement."""
    totals = StreamTotals(reader.stream.name, MODE, completed=True)
    for start in range(0, len(patients), PATIENTS_PER_STATEMENT):
        part = reader.pull(patients[start:start + PATIENTS_PER_STATEMENT], run_id)
        totals.rows_read += part.rows_read
        totals.rows_inserted += part.rows_inserted
        totals.rows_updated += part.rows_updated
        totals.rows_deleted += part.rows_deleted
        totals.rows_quarantined += part.rows_quarantined
        totals.seconds += part.seconds
    return totals
