"""Benchmark: building the coordinators' work queues from the items of the large practice.

Measures, on a ledger holding the practice's items (built here by bench/items_bench.py's
measurement: a full pull, a full evaluation, an incremental cycle):
  * one build of every format (xlsx, csv, html), as the daemon runs after each cycle (our
    target: at most 10 s: a coordinator waits no longer for fresh queues after a cycle), in a
    process of its own, so its peak memory is the build's (target: at most 250 MB), and the
    size of the HTML page it wrote;
  * its floor: reading the open items with their replica rows, the build's first step;
  * the build again with nothing changed (a quiet cycle's: it reads no rows);
  * each format built alone, to show where the time goes.

Usage: python bench/queues_bench.py [--database tc_bench]
       python bench/queues_bench.py --ledger items.db   # a ledger an earlier run kept
                                                        # (--keep items.db), items as they are
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import items_bench
from sync_bench import HOST, PASSWORD, PORT, USER, own_cpu_seconds, peak_rss_mb

from tc_sync.config import QUEUE_FORMATS, Settings, settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.queues.build import PAGE, build_queues
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
    cpu_seconds: float = 0.0
    """Processor time of that build (user and system)."""
    peak_mb: float = 0.0
    """Peak memory of a process doing one build of every format, and nothing else."""
    page_megabytes: float = 0.0
    """The HTML page's size."""
    quiet_seconds: float = 0.0
    """The build again with nothing changed, as after a quiet cycle (it reads no rows)."""


def build_alone(ledger: Path, database: str, folder: Path, today: date) -> dict[str, float]:
    """One build of every format in a new process: its time, peak memory and page size."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(ledger), "--folder", str(folder),
         "--database", database, "--today", today.isoformat()],
        capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def _child(ledger: Path, database: str, folder: Path, today: date) -> None:
    engine = open_ledger(f"sqlite:///{ledger}")
    before = own_cpu_seconds()
    build = build_queues(engine, settings_for(ledger, database, folder), today=today)
    print(json.dumps({"seconds": build.seconds, "cpu_seconds": own_cpu_seconds() - before,
                      "peak_mb": peak_rss_mb(),
                      "page_mb": (folder / PAGE).stat().st_size / 1e6}))



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
        quiet = build_queues(engine, settings, today=today)
        if quiet.written:
            raise RuntimeError("a build with nothing changed wrote files")
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
    alone = build_alone(ledger, database, folder / "alone", today)
    items = sum(build.queues.values())
    if read != items:
        raise RuntimeError(f"the build showed {items:,} open items, the floor read {read:,}")
    return QueueFigures(alone["seconds"], items, len(build.queues), len(build.written),
                        size / 1e6, read_seconds, per_format, alone["cpu_seconds"],
                        alone["peak_mb"], alone["page_mb"], quiet.seconds)


def print_figures(figures: QueueFigures) -> None:
    print(f"queue build, every format:  {figures.seconds:7.2f} s ({figures.items:,} open items, "
          f"{figures.queues} queues, {figures.files} files, {figures.megabytes:.1f} MB)")
    print(f"processor time of it:       {figures.cpu_seconds:7.2f} s")
    print(f"peak memory of the build:   {figures.peak_mb:7.0f} MB (HTML page "
          f"{figures.page_megabytes:.1f} MB)")
    print(f"floor, reading the rows:    {figures.read_seconds:7.2f} s")
    print(f"again, nothing changed:     {figures.quiet_seconds:7.2f} s")
    for kind, seconds in figures.per_format.items():
        print(f"{kind + ' alone:':<27} {seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--today", type=date.fromisoformat, default=items_bench.PRACTICE_TODAY,
                        help="the practice's today (the large practice is built for 2025-06-16)")
    parser.add_argument("--ledger", type=Path,
                        help="measure the queues of this ledger's items (no pull)")
    parser.add_argument("--keep", type=Path, help="keep the ledger the pull made, here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments.child, arguments.database, arguments.folder, arguments.today)
        return
    work = Path(tempfile.mkdtemp(prefix="tc-sync-queues-bench-"))
    try:
        ledger = arguments.ledger or work / "ledger.db"
        if arguments.ledger is None:
            items_bench.print_figures(items_bench.measure(arguments.database, ledger,
                                                          arguments.today))
            if arguments.keep:
                shutil.copyfile(ledger, arguments.keep)
        print_figures(measure(ledger, arguments.database, work / "queues", arguments.today))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
