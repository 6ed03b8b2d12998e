"""One cycle (sync, then reconcile) of source "main", and what the ledger then holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tc_sync.config import SourceSettings, SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import ReconcileTotals, reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.pull.run import RunResult, sync_source
from tc_sync.records import Procedure

TODAY = date(2026, 11, 26)
"""The synthetic practices' today."""
MAPPINGS = load_mappings()


def sqlite_ledger(folder: Path) -> Iterator[sa.Engine]:
    """A new SQLite ledger in `folder`, disposed after (a fixture's body)."""
    engine = open_ledger(f"sqlite:///{folder / 'ledger.db'}")
    yield engine
    engine.dispose()


def cycle(ledger: sa.Engine, source: SourceSettings, *, full: bool = False,
          today: date = TODAY, deletes_each_cycle: bool = True
          ) -> tuple[RunResult, ReconcileTotals]:
    """Sync the source, then reconcile its items as the daemon's cycle does."""
    result = sync_source(ledger, "main", source, SyncSettings(
        safety_lag_seconds=0, deletes_each_cycle=deletes_each_cycle), full=full)
    totals = reconcile_source(ledger, "main", MAPPINGS, today,
                              complete_run=result.outcome == "ok", run_id=result.run_id)
    return result, totals


def per_stream(result: RunResult, what: str) -> dict[str, Any]:
    """One figure of every stream of a run: mode, rows_read, rows_inserted, ..."""
    return {totals.stream: getattr(totals, what) for totals in result.streams}


def rows_written(result: RunResult) -> int:
    return sum(s.rows_inserted + s.rows_updated + s.rows_deleted for s in result.streams)


def item(ledger: sa.Engine, key: str) -> dict[str, Any]:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items).where(items.c.item_key == key))
                    .mappings().one())


def details(ledger: sa.Engine, key: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(item(ledger, key)["details"])
    return found


def status(ledger: sa.Engine, key: str) -> tuple[str, str | None]:
    """An item's (status, resolution)."""
    row = item(ledger, key)
    return row["status"], row["resolution"]


def events(ledger: sa.Engine, key: str) -> list[tuple[str, dict[str, Any]]]:
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(item_events.c.event, item_events.c.detail).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id))
        return [(event, json.loads(detail)) for event, detail in rows]


def event_count(ledger: sa.Engine) -> int:
    with ledger.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(item_events)) or 0)


def open_keys(ledger: sa.Engine, kind: str) -> list[str]:
    with ledger.connect() as connection:
        return sorted(connection.execute(sa.select(items.c.item_key).where(
            items.c.kind == kind, items.c.status == "open")).scalars())


def open_per_kind(ledger: sa.Engine) -> dict[str, int]:
    with ledger.connect() as connection:
        return {kind: int(count) for kind, count in connection.execute(
            sa.select(items.c.kind, sa.func.count()).where(items.c.status == "open")
            .group_by(items.c.kind))}


def subject(key: str) -> int:
    """The PMS id an item key names (a patient, claim or appointment)."""
    return int(key.rsplit(":", 1)[1])


def live_count(ledger: sa.Engine, record: type) -> int:
    """Rows of `record` in the replica that are not marked deleted."""
    table = replica[record]
    with ledger.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table).where(
            table.c.deleted_at.is_(None))) or 0)


def procedures_on(ledger: sa.Engine, patient: int, appointment: int) -> set[int]:
    """The patient's procedures the ledger shows booked on the appointment."""
    table = replica[Procedure]
    with ledger.connect() as connection:
        return set(connection.execute(sa.select(table.c.pms_id).where(
            table.c.patient_id == patient, table.c.appointment_id == appointment)).scalars())


def replica_rows(ledger: sa.Engine, record: type) -> list[tuple[Any, ...]]:
    """Every row of `record` in key order, without the ledger's own bookkeeping."""
    table = replica[record]
    fields = [c for c in table.c if c.name not in (
        "source_id", "first_seen", "last_changed", "deleted_at")]
    with ledger.connect() as connection:
        return [tuple(row) for row in connection.execute(
            sa.select(*fields).order_by(table.c.pms_id))]


def item_amounts(ledger: sa.Engine) -> list[tuple[Any, ...]]:
    with ledger.connect() as connection:
        return [tuple(row) for row in connection.execute(
            sa.select(items.c.item_key, items.c.amount).order_by(items.c.item_key))]
