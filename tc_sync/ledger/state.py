"""Sync bookkeeping in the ledger: sources, runs, quarantined rows (cursors: pull.cursor_store)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import quarantine, sources, sync_run_streams, sync_runs

HINTED = "hinted"
"""The mode of a run that re-read only the patients a PMS's change hints named: it says
nothing about the rest, so health looks past it to the last scan."""


def now_utc() -> datetime:
    """The ledger's clock: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def touch_source(connection: sa.Connection, source_id: str, kind: str,
                 pms_version: str | None) -> None:
    """Record that `source_id` was reached, with the PMS schema version it reported."""
    now = now_utc()
    updated = connection.execute(
        sources.update().where(sources.c.source_id == source_id)
        .values(kind=kind, pms_version=pms_version, last_seen=now))
    if updated.rowcount == 0:
        connection.execute(sources.insert().values(
            source_id=source_id, kind=kind, pms_version=pms_version, first_seen=now,
            last_seen=now))


def start_run(connection: sa.Connection, source_id: str, mode: str) -> int:
    result = connection.execute(sync_runs.insert().values(
        source_id=source_id, mode=mode, started_at=now_utc(), outcome="running", rows_read=0,
        rows_inserted=0, rows_updated=0, rows_deleted=0, rows_quarantined=0, statements=0,
        longest_statement_ms=0))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def read_whole(connection: sa.Connection, source_id: str) -> bool:
    """A scan of the source has ended ok, so every stream has been read whole at least once.
    Until then (a first sync stopped or failing part way) the ledger lacks whole tables, and
    items evaluated from it would be wrong: every planned procedure would look unscheduled
    while the appointments are still to come."""
    return connection.execute(sa.select(sync_runs.c.run_id).where(
        sync_runs.c.source_id == source_id, sync_runs.c.outcome == "ok",
        sync_runs.c.mode != HINTED).limit(1)).first() is not None


def close_interrupted_runs(connection: sa.Connection, source_ids: Sequence[str]) -> int:
    """Runs still marked running for these sources were cut off (the daemon was killed, the
    server lost power): close them as 'interrupted'. Call it only under the daemon lock."""
    result = connection.execute(sync_runs.update().where(
        sync_runs.c.source_id.in_(list(source_ids)), sync_runs.c.outcome == "running").values(
        outcome="interrupted", finished_at=now_utc(), error_class="Interrupted",
        error_detail="the process ended before the run finished; the next run catches up"))
    return int(result.rowcount)


@dataclass
class StreamTotals:
    """What one stream's pull did within a run."""

    stream: str
    mode: str
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    completed: bool = False


def finish_run(
    connection: sa.Connection, run_id: int, *, outcome: str, totals: Sequence[StreamTotals],
    pms_version: str | None, statements: int, longest_statement_seconds: float,
    error_class: str | None = None, error_detail: str | None = None,
) -> None:
    """Close a run with its outcome ('ok', 'partial', 'failed') and per-stream counts."""
    connection.execute(sync_runs.update().where(sync_runs.c.run_id == run_id).values(
        finished_at=now_utc(), outcome=outcome, error_class=error_class,
        error_detail=error_detail, pms_version=pms_version,
        rows_read=sum(t.rows_read for t in totals),
        rows_inserted=sum(t.rows_inserted for t in totals),
        rows_updated=sum(t.rows_updated for t in totals),
        rows_deleted=sum(t.rows_deleted for t in totals),
        rows_quarantined=sum(t.rows_quarantined for t in totals),
        statements=statements,
        longest_statement_ms=round(longest_statement_seconds * 1000)))
    if totals:
        connection.execute(sync_run_streams.insert(), [
            {"run_id": run_id, "stream": t.stream, "mode": t.mode, "rows_read": t.rows_read,
             "rows_inserted": t.rows_inserted, "rows_updated": t.rows_updated,
             "rows_deleted": t.rows_deleted, "rows_quarantined": t.rows_quarantined,
             "seconds": t.seconds, "completed": t.completed} for t in totals])


@dataclass(frozen=True)
class BadRow:
    """A PMS row that failed validation."""

    key: int
    field: str | None
    reason: str
    row: dict[str, Any]


def open_quarantine(connection: sa.Connection, source_id: str, stream: str) -> set[int]:
    """Keys of this stream's rows now held in quarantine."""
    return set(connection.execute(
        sa.select(quarantine.c.pms_id).where(
            quarantine.c.source_id == source_id, quarantine.c.stream == stream,
            quarantine.c.released_at.is_(None))).scalars())


def hold(connection: sa.Connection, source_id: str, stream: str, pms_table: str,
         rows: Sequence[BadRow], run_id: int, held: set[int]) -> None:
    """Put bad rows in quarantine (or count another sighting of ones already there)."""
    now = now_utc()
    for bad in rows:
        data = json.dumps(bad.row, default=str, ensure_ascii=False)
        where = (quarantine.c.source_id == source_id, quarantine.c.stream == stream,
                 quarantine.c.pms_id == bad.key)
        updated = connection.execute(quarantine.update().where(*where).values(
            field=bad.field, reason=bad.reason, row_data=data, last_seen=now, run_id=run_id,
            released_at=None, times_seen=quarantine.c.times_seen + 1))
        if updated.rowcount == 0:
            connection.execute(quarantine.insert().values(
                source_id=source_id, stream=stream, pms_id=bad.key, pms_table=pms_table,
                field=bad.field, reason=bad.reason, row_data=data, first_seen=now,
                last_seen=now, times_seen=1, run_id=run_id))
        held.add(bad.key)


def release(connection: sa.Connection, source_id: str, stream: str, keys: Sequence[int],
            held: set[int]) -> None:
    """Release quarantined rows that have now arrived valid."""
    now = now_utc()
    for key in keys:
        connection.execute(quarantine.update().where(
            quarantine.c.source_id == source_id, quarantine.c.stream == stream,
            quarantine.c.pms_id == key).values(released_at=now))
        held.discard(key)
