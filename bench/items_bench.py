"""Benchmark: reconciling coordination items on the large practice, beside the pull itself.

Measures, on a database loaded by bench/sync_bench.py (default tc_bench, MyISAM):
  * the full sync (pull) time, then a full evaluation of every patient's items (target: at
    most 2x the pull);
  * an incremental cycle after 1,000 procedurelog rows changed: pull plus reconcile (target:
    at most 1 s);
  * peak memory of the process doing it.

`measure` returns these figures as data (bench/report.py reports them); `print_figures`
prints them.

Usage: python bench/items_bench.py [--database tc_bench]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sync_bench import HOST, PASSWORD, PORT, USER, connect, peak_rss_mb

from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.run import sync_source

SOURCE_ID = "bench"
PRACTICE_TODAY = date(2025, 6, 16)
"""The practice's today: the large practice is built for 2025-06-16."""


@dataclass
class ItemsFigures:
    pull_seconds: float
    """The full pull the evaluation follows, in the same run."""
    pull_rows: int
    evaluation_seconds: float
    """Evaluating every patient's items after that pull."""
    patients: int
    opened: int
    incremental_pull_seconds: float
    """The incremental pull after 1,000 procedurelog rows changed."""
    reconcile_seconds: float
    """The reconcile that follows it."""
    reconciled_patients: int
    peak_rss_mb: float
    """Of this whole process, so far."""


def source_settings(database: str) -> SourceSettings:
    return SourceSettings(kind="opendental", connection=ConnectionSettings(
        host=HOST, port=PORT, user=USER, password=PASSWORD or None,
        database=database, read_timeout=600))


def measure(database: str, ledger: Path, today: date = PRACTICE_TODAY) -> ItemsFigures:
    """Pull the practice into a new SQLite ledger at `ledger`, reconcile, change, reconcile.

    The ledger is left in place, holding the items (the queue benchmark reads them).
    """
    engine = open_ledger(f"sqlite:///{ledger}")
    try:
        source = source_settings(database)
        mappings = load_mappings()
        pull = sync_source(engine, SOURCE_ID, source, SyncSettings(), full=True)
        evaluation = reconcile_source(engine, SOURCE_ID, mappings, today,
                                      complete_run=pull.outcome == "ok", run_id=pull.run_id)
        with connect(database) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT MAX(ProcNum) FROM procedurelog")
            top = int(cursor.fetchone()[0])
            keys = random.Random(3).sample(range(1, top + 1), 1000)
            cursor.executemany("UPDATE procedurelog SET ProcFee = ProcFee + 1 "
                               "WHERE ProcNum = %s", [(key,) for key in keys])
        started = time.perf_counter()
        again = sync_source(engine, SOURCE_ID, source, SyncSettings())
        pulled = time.perf_counter() - started
        totals = reconcile_source(engine, SOURCE_ID, mappings, today,
                                  complete_run=again.outcome == "ok", run_id=again.run_id)
    finally:
        engine.dispose()
    return ItemsFigures(
        pull.seconds, pull.rows_read, evaluation.seconds, evaluation.patients, evaluation.opened,
        pulled, totals.seconds, totals.patients, peak_rss_mb())


def print_figures(figures: ItemsFigures) -> None:
    pull, evaluation = figures.pull_seconds, figures.evaluation_seconds
    print(f"full pull:                 {pull:7.1f} s ({figures.pull_rows:,} rows)")
    print(f"full evaluation:           {evaluation:7.1f} s "
          f"({figures.patients:,} patients, {figures.opened:,} items opened) = "
          f"{evaluation / pull:.2f}x the pull")
    pulled, reconciled = figures.incremental_pull_seconds, figures.reconcile_seconds
    print(f"incremental, 1,000 changed: pull {pulled * 1000:.0f} ms + reconcile "
          f"{reconciled * 1000:.0f} ms ({figures.reconciled_patients:,} patients) = "
          f"{(pulled + reconciled) * 1000:.0f} ms")
    print(f"peak memory:               {figures.peak_rss_mb:7.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--today", type=date.fromisoformat, default=PRACTICE_TODAY,
                        help="the practice's today (the large practice is built for 2025-06-16)")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tc-sync-items-bench-"))
    try:
        print_figures(measure(arguments.database, work / "ledger.db", arguments.today))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
