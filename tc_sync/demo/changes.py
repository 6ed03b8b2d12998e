"""What one demo cycle changed, in a new user's words: items resolved and opened, the digest.

Read from the ledger before and after the cycle. The demo's data is synthetic, so the lines
name patients; nothing here is logged.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.digest.compose import Scope, compose, queue_counts
from tc_sync.ledger.schema import items
from tc_sync.queues.html import money
from tc_sync.queues.rows import load_rows

EXAMPLES = 3
"""Item keys shown per kind resolved or opened."""

_RESOLUTION_WORDS = {
    "scheduled": "scheduled", "completed": "completed", "received": "received from the carrier",
    "sent": "sent", "paid": "paid", "deleted_in_pms": "deleted in the PMS",
    "no_longer_eligible": "no longer owed"}


@dataclass(frozen=True)
class Before:
    """The ledger before the cycle: its open items and the digest's headline."""

    open_keys: frozenset[str]
    headline: str


def headline(engine: sa.Engine, settings: Settings, today: date) -> str:
    """The digest's headline: overdue and open follow-ups, and the dollars at stake."""
    with engine.connect() as connection:
        rows = load_rows(connection, list(settings.sources), today)
    options = settings.reports.digest
    digest = compose(rows, (), Scope(), site_id=settings.site_id, today=today,
                     detail=options.detail, top=options.top, overdue_limit=options.overdue_limit)
    dollars = sum((count.amount for count in queue_counts(rows, today)), Decimal(0))
    return f"{digest.overdue:,} overdue of {digest.items:,} open, {money(dollars)} at stake"


def before(engine: sa.Engine, settings: Settings, source_id: str, today: date) -> Before:
    """What to compare the cycle's outcome with."""
    with engine.connect() as connection:
        keys = frozenset(connection.scalars(sa.select(items.c.item_key).where(
            items.c.source_id == source_id, items.c.status == "open")))
    return Before(keys, headline(engine, settings, today))


def describe(engine: sa.Engine, practice: Path, source_id: str, was: Before) -> list[str]:
    """Items resolved (by kind and why) and opened since `was`, with a few examples each."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(
            items.c.item_key, items.c.kind, items.c.status, items.c.resolution,
            items.c.patient_id).where(items.c.source_id == source_id)).all()
    resolved: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    opened: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key, kind, status, resolution, patient in rows:
        if key in was.open_keys and status != "open":
            resolved[(kind, resolution or "")].append((key, patient))
        elif key not in was.open_keys and status == "open":
            opened[kind].append((key, patient))
    names = _patient_names(practice, {patient for found in (*resolved.values(),
                                                            *opened.values())
                                      for _, patient in found})
    lines = [f"items resolved: {sum(map(len, resolved.values())):,}"]
    for (kind, why), found in sorted(resolved.items()):
        lines.append(f"  {len(found):>4,} {kind}, {_RESOLUTION_WORDS.get(why, why)}: "
                     + _examples(found, names))
    lines.append(f"items opened: {sum(map(len, opened.values())):,}")
    for kind, found in sorted(opened.items()):
        lines.append(f"  {len(found):>4,} {kind}: " + _examples(found, names))
    return lines


def _examples(found: list[tuple[str, int]], names: dict[int, str]) -> str:
    shown = sorted(found)[:EXAMPLES]
    more = f" and {len(found) - len(shown):,} more" if len(found) > len(shown) else ""
    return "; ".join(f"{key} ({names.get(patient, f'patient {patient}')})"
                     for key, patient in shown) + more


def _patient_names(practice: Path, patients: set[int]) -> dict[int, str]:
    """The demo's made-up names, read from its practice file."""
    if not patients:
        return {}
    with closing(sqlite3.connect(f"file:{practice}?mode=ro", uri=True)) as connection:
        return {num: f"{first} {last}" for num, first, last in connection.execute(
            "SELECT PatNum, FName, LName FROM patient") if num in patients}

