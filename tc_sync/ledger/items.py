"""Items and their history in the ledger: read the ones in scope, write changes as events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import item_events, items, reconcile_state
from tc_sync.ledger.state import now_utc

TRACKED = ("patient_id", "claim_id", "appointment_id", "clinic_id", "provider_id", "amount",
           "codes", "details", "owed_since")
"""Fields whose change is an event a coordinator sees ('changed')."""

STAFF_EVENT = "task_by_staff"
"""The item event recorded when staff finished, deleted or moved one of tc-sync's tasks."""


@dataclass(frozen=True)
class ReconcileState:
    changes_through: datetime | None
    last_full_evaluation: date | None
    mappings_digest: str | None = None
    plan_owed: bool = False
    """Items changed since the follow-ups were last planned."""
    planned_at: datetime | None = None
    """When the follow-ups were last planned (naive UTC)."""


def load_state(connection: sa.Connection, source_id: str) -> ReconcileState:
    row = connection.execute(sa.select(reconcile_state).where(
        reconcile_state.c.source_id == source_id)).mappings().first()
    if row is None:
        return ReconcileState(None, None)
    return ReconcileState(row["changes_through"], row["last_full_evaluation"],
                          row["mappings_digest"], bool(row["plan_owed"]), row["planned_at"])


def save_state(connection: sa.Connection, source_id: str, state: ReconcileState) -> None:
    values = {"changes_through": state.changes_through,
              "last_full_evaluation": state.last_full_evaluation,
              "mappings_digest": state.mappings_digest, "plan_owed": state.plan_owed,
              "planned_at": state.planned_at}
    updated = connection.execute(reconcile_state.update().where(
        reconcile_state.c.source_id == source_id).values(**values))
    if updated.rowcount == 0:
        connection.execute(reconcile_state.insert().values(source_id=source_id, **values))


def load_items(connection: sa.Connection, source_id: str,
               patient_ids: Iterable[int]) -> dict[str, dict[str, Any]]:
    """Every item (open or resolved) of these patients, by key."""
    ids = sorted(set(patient_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        rows = connection.execute(sa.select(items).where(
            items.c.source_id == source_id, items.c.patient_id.in_(ids[start:start + 500])))
        found.update((row["item_key"], dict(row)) for row in rows.mappings())
    return found


def open_per_owner(connection: sa.Connection, source_id: str) -> dict[str, int]:
    rows = connection.execute(sa.select(items.c.owner, sa.func.count()).where(
        items.c.source_id == source_id, items.c.status == "open",
        items.c.owner.is_not(None)).group_by(items.c.owner))
    return {str(owner): int(count) for owner, count in rows}


def encode(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the items table stores them (codes joined, details as JSON)."""
    stored = dict(fields)
    if "codes" in stored:
        stored["codes"] = " ".join(stored["codes"])
    if "details" in stored:
        stored["details"] = json.dumps(stored["details"], sort_keys=True, default=str)
    return stored


_INSERT_EVENT = item_events.insert()
_INSERT_ITEM = items.insert()
_UPDATE_ITEM = items.update().where(items.c.item_key == sa.bindparam("key_"))
"""Statements built once: building one per write (`.values(**fields)`) cost more than the
write itself at a first reconcile's 70,000 items."""


def _event_row(key: str, event: str, detail: Mapping[str, Any], run_id: int | None
               ) -> dict[str, Any]:
    return {"item_key": key, "at": now_utc(), "event": event,
            "detail": json.dumps(detail, sort_keys=True, default=str), "run_id": run_id}


def record_event(connection: sa.Connection, key: str, event: str, detail: Mapping[str, Any],
                 run_id: int | None) -> None:
    connection.execute(_INSERT_EVENT, _event_row(key, event, detail, run_id))


def insert_item(connection: sa.Connection, key: str, fields: Mapping[str, Any]) -> None:
    connection.execute(_INSERT_ITEM, {"item_key": key, "updated_at": now_utc(), **fields})


def update_item(connection: sa.Connection, key: str, fields: Mapping[str, Any]) -> None:
    connection.execute(_UPDATE_ITEM, {"key_": key, "updated_at": now_utc(), **fields})


class ItemWrites:
    """One transaction's item inserts, updates and events, written at its end with one
    statement per kind of write and set of columns (the database's executemany): inserts,
    then updates, then events, each in the order asked for. Each write is stamped when asked
    for, as if it had been executed then. Nothing may read the items written meanwhile
    without a `flush` first."""

    def __init__(self) -> None:
        self._inserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._events: list[dict[str, Any]] = []

    def insert(self, key: str, fields: Mapping[str, Any]) -> None:
        row = {"item_key": key, "updated_at": now_utc(), **fields}
        self._inserts.setdefault(tuple(row), []).append(row)

    def update(self, key: str, fields: Mapping[str, Any]) -> None:
        row = {"key_": key, "updated_at": now_utc(), **fields}
        self._updates.setdefault(tuple(row), []).append(row)

    def event(self, key: str, event: str, detail: Mapping[str, Any],
              run_id: int | None) -> None:
        self._events.append(_event_row(key, event, detail, run_id))

    def flush(self, connection: sa.Connection) -> None:
        """Write everything asked for so far, in `connection`'s transaction."""
        for rows in self._inserts.values():
            connection.execute(_INSERT_ITEM, rows)
        for rows in self._updates.values():
            connection.execute(_UPDATE_ITEM, rows)
        if self._events:
            connection.execute(_INSERT_EVENT, self._events)
        self._inserts, self._updates, self._events = {}, {}, []
