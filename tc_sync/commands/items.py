"""`tc-sync items list|show|snooze|assign`: the coordination items and their history."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.items.listing import Format, item_record, write_csv, write_json, write_table
from tc_sync.items.store import record_event
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items
from tc_sync.ledger.state import now_utc


def list_items(settings: Settings, *, queue: str | None, kind: str | None,
               source: str | None, resolved: bool, output: Format = "table") -> int:
    """Open (or resolved) items, highest priority first, as a table, JSON or CSV."""
    engine = open_ledger(settings.ledger.url)
    query = sa.select(items).where(items.c.status == ("resolved" if resolved else "open"))
    for column, value in ((items.c.queue, queue), (items.c.kind, kind),
                          (items.c.source_id, source)):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(items.c.priority.desc(), items.c.item_key)
    try:
        with engine.connect() as connection:
            rows: list[dict[str, Any]] = [
                dict(row) for row in connection.execute(query).mappings()]
    finally:
        engine.dispose()
    if output == "json":
        write_json([item_record(row) for row in rows], sys.stdout)
    elif output == "csv":
        write_csv([item_record(row) for row in rows], sys.stdout)
    else:
        write_table(rows, sys.stdout, resolved=resolved)
    return 0


def show_item(settings: Settings, key: str) -> int:
    engine = open_ledger(settings.ledger.url)
    with engine.connect() as connection:
        row = connection.execute(sa.select(items).where(items.c.item_key == key)
                                 ).mappings().first()
        if row is None:
            print(f"tc-sync: no item '{key}' (see `tc-sync items list`)", file=sys.stderr)
            return 1
        history = connection.execute(sa.select(item_events).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id)).mappings().all()
    for name, value in row.items():
        shown = json.dumps(json.loads(value)) if name == "details" else value
        print(f"{name:>16}: {shown}")
    print("history:")
    for event in history:
        print(f"  {event['at']:%Y-%m-%d %H:%M:%S} UTC  {event['event']:<10} {event['detail']}")
    return 0


def _change(settings: Settings, key: str, event: str, values: dict[str, object]) -> int:
    engine = open_ledger(settings.ledger.url)
    with engine.begin() as connection:
        found = connection.execute(items.update().where(
            items.c.item_key == key, items.c.status == "open").values(
            updated_at=now_utc(), **values))
        if found.rowcount == 0:
            print(f"tc-sync: no open item '{key}'", file=sys.stderr)
            return 1
        record_event(connection, key, event, values, None)
    print(f"{key}: {event} ({', '.join(f'{k} {v}' for k, v in values.items())})")
    return 0


def snooze_item(settings: Settings, key: str, until: date) -> int:
    """Put an item's next follow-up off until a date (recorded as an event)."""
    return _change(settings, key, "snoozed", {"snoozed_until": until, "next_follow_up": until})


def assign_item(settings: Settings, key: str, owner: str) -> int:
    """Give an item to an owner (recorded as an event)."""
    return _change(settings, key, "assigned", {"owner": owner})
