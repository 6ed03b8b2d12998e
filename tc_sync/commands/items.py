"""`tc-sync items list|show`: the coordination items and an item's whole history."""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.ledger.db import LedgerError, open_ledger
from tc_sync.ledger.schema import item_events, items


def _engine(settings: Settings) -> sa.Engine | None:
    try:
        return open_ledger(settings.ledger.url)
    except LedgerError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return None


def list_items(settings: Settings, *, queue: str | None, kind: str | None,
               source: str | None, resolved: bool) -> int:
    engine = _engine(settings)
    if engine is None:
        return 1
    query = sa.select(items).where(items.c.status == ("resolved" if resolved else "open"))
    for column, value in ((items.c.queue, queue), (items.c.kind, kind),
                          (items.c.source_id, source)):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(items.c.priority.desc(), items.c.item_key)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    print(f"{'item':<44} {'queue':<11} {'owner':<8} {'amount':>11} {'next':<10} {'tries':>5}"
          f"  codes")
    for row in rows:
        amount = f"${row['amount'] / 100:,.2f}" if row["amount"] is not None else ""
        print(f"{row['item_key']:<44} {row['queue']:<11} {row['owner'] or '':<8} {amount:>11} "
              f"{row['next_follow_up']:%Y-%m-%d} {row['attempts']:>5}  {row['codes']}")
    print(f"{len(rows):,} {'resolved' if resolved else 'open'} item(s)")
    return 0


def show_item(settings: Settings, key: str) -> int:
    engine = _engine(settings)
    if engine is None:
        return 1
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
