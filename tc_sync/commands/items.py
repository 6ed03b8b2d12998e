"""`tc-sync items list|show|snooze|assign`: the coordination items and their history."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.listing import Format, item_record, write_csv, write_json, write_table
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.items import record_event
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


def _change(settings: Settings, key: str, event: str, values: dict[str, object],
            said: str) -> int:
    engine = open_ledger(settings.ledger.url)
    with engine.begin() as connection:
        found = connection.execute(items.update().where(
            items.c.item_key == key, items.c.status == "open").values(
            updated_at=now_utc(), **values))
        if found.rowcount == 0:
            print(f"tc-sync: no open item '{key}' (see `tc-sync items list`)", file=sys.stderr)
            return 1
        record_event(connection, key, event, values, None)
    print(f"{key}: {said}")
    return 0


def snooze_item(settings: Settings, key: str, until: date) -> int:
    """Put an item's next follow-up off until a day from today to a year ahead (recorded as
    an event); another day is refused with exit 2."""
    today = practice_today(settings)
    if not today <= until <= today + timedelta(days=365):
        print(f"tc-sync: --until {until:%Y-%m-%d} is not between today ({today:%Y-%m-%d}) and "
              f"a year ahead ({today + timedelta(days=365):%Y-%m-%d})", file=sys.stderr)
        return 2
    return _change(settings, key, "snoozed", {"snoozed_until": until, "next_follow_up": until},
                   f"snoozed: its next follow-up is {until:%A %d %B %Y}")


def assign_item(settings: Settings, key: str, owner: str) -> int:
    """Give an item to one of the owners the mappings name (recorded as an event); another
    name is refused with exit 2."""
    known = sorted(load_mappings(settings.mappings_file).known_owners())
    if owner not in known:
        named = ", ".join(known) if known else "none yet (name them under owners: in the mappings)"
        print(f"tc-sync: '{owner}' is not an owner the mappings name; owners: {named}",
              file=sys.stderr)
        return 2
    return _change(settings, key, "assigned", {"owner": owner}, f"assigned to {owner}")
