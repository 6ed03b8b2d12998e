"""Benchmark: building the coordinators' work queues from the items of the large practice.

Measures, on a ledger holding the practice's items (built here by bench/items_bench.py's
measurement: a full pull, a full evaluation, an incremental cycle):
  * one build of every format (xlsx, csv, html), as the daemon runs after each cycle (our
    target: at most 10 s: a coordinator waits no longer for fresh queues after a cycle);
  * its floor: reading the open items with their replica rows, the build's first step;
  * each format built alone, to show where the time goes.

Usage: python bench/queues_bench.py [--database tc_bench]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import items_bench
from sync_bench import HOST, PASSWORD, PORT, USER

from tc_sync.config import QUEUE_FORMATS, Settings, settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.queues.build import build_queues
from tc_sync.queues.rows import load_rows


@dataclass
class QueueFigures:
    seconds: float
    """One build of every format."""
    items: int
    """Open items in the queues."""
    queues: int
    files: int
    megabytes: float
    """What the build wrote."""
    read_seconds: float
    """The floor: reading the open items with their replica rows (the build's first step)."""
    per_format: dict[str, float] = field(default_factory=dict)
    """Each format built alone (reading included)."""


def settings_for(ledger: Path, database: str, folder: Path,
                 formats: list[str] | None = None) -> Settings:
    connection: dict[str, object] = {"host": HOST, "port": PORT, "user": USER,
                                     "database": database}
    if PASSWORD:
        connection["password"] = PASSWORD
    return settings_from_mapping({
        "ledger": {"url": f"sqlite:///{ledger}"},
        "sources": {items_bench.SOURCE_ID: {"kind": "opendental", "connection": connection}},
        "queues": {"folder": str(folder), "formats": formats or list(QUEUE_FORMATS)},
    })


def measure(ledger: Path, database: str, folder: Path,
            today: date = items_bench.PRACTICE_TODAY) -> QueueFigures:
    """Build the queues from the items in `ledger` into `folder` (emptied first)."""
    shutil.rmtree(folder, ignore_errors=True)
    settings = settings_for(ledger, database, folder / "all")
    engine = open_ledger(settings.ledger.url)
    try:
        build = build_queues(engine, settings, today=today)
        size = sum(path.stat().st_size for path in build.written)
        started = time.perf_counter()
        with engine.connect() as connection:
            read = len(load_rows(connection, [items_bench.SOURCE_ID], today))
        read_seconds = time.perf_counter() - started
        per_format: dict[str, float] = {}
        for kind in QUEUE_FORMATS:
            alone = build_queues(engine, settings_for(ledger, database, folder / kind, [kind]),
                                 today=today)
            per_format[kind] = alone.seconds
    finally:
        engine.dispose()
    items = sum(build.queues.values())
    if read != items:
        raise RuntimeError(f"the build showed {items:,} open items, the floor read {read:,}")
    return QueueFigures(build.seconds, items, len(build.queues), len(build.written),
                        size / 1e6, read_seconds, per_format)


def print_figures(figures: QueueFigures) -> None:
    print(f"queue build, every format:  {figures.seconds:7.2f} s ({figures.items:,} open items, "
          f"{figures.queues} queues, {figures.files} files, {figures.megabytes:.1f} MB)")
    print(f"floor, reading the rows:    {figures.read_seconds:7.2f} s")
    for kind, seconds in figures.per_format.items():
        print(f"{kind + ' alone:':<27} {seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--today", type=date.fromisoformat, default=items_bench.PRACTICE_TODAY,
                        help="the practice's today (the large practice is built for 2025-06-16)")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tc-sync-queues-bench-"))
    try:
        ledger = work / "ledger.db"
        items_bench.print_figures(items_bench.measure(arguments.database, ledger,
                                                      arguments.today))
        print_figures(measure(ledger, arguments.database, work / "queues", arguments.today))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
