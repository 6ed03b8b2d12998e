"""Benchmark: reconciling coordination items on the large practice, beside the pull itself.

Measures, on a database loaded by bench/sync_bench.py (default tc_bench, MyISAM):
  * the full sync (pull) time, then a full evaluation of every patient's items (target: at
    most 2x the pull);
  * an incremental cycle after 1,000 procedurelog rows changed: pull plus reconcile (target:
    at most 1 s);
  * peak memory of the process doing it.

Usage: python bench/items_bench.py [--database tc_bench]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from sync_bench import HOST, PASSWORD, PORT, USER, connect

from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.mappings import load_mappings
from tc_sync.sync import sync_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2025, 6, 16),
                        help="the practice's today (the large practice is built for 2025-06-16)")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tc-sync-items-bench-"))
    try:
        engine = open_ledger(f"sqlite:///{work / 'ledger.db'}")
        source = SourceSettings(kind="opendental", connection=ConnectionSettings(
            host=HOST, port=PORT, user=USER, password=PASSWORD or None,
            database=arguments.database, read_timeout=600))
        mappings = load_mappings()
        pull = sync_source(engine, "bench", source, SyncSettings(), full=True)
        evaluation = reconcile_source(engine, "bench", mappings, arguments.today,
                                      complete_run=pull.outcome == "ok", run_id=pull.run_id)
        print(f"full pull:                 {pull.seconds:7.1f} s ({pull.rows_read:,} rows)")
        print(f"full evaluation:           {evaluation.seconds:7.1f} s "
              f"({evaluation.patients:,} patients, {evaluation.opened:,} items opened) = "
              f"{evaluation.seconds / pull.seconds:.2f}x the pull")
        with connect(arguments.database) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT MAX(ProcNum) FROM procedurelog")
            top = int(cursor.fetchone()[0])
            keys = random.Random(3).sample(range(1, top + 1), 1000)
            cursor.executemany("UPDATE procedurelog SET ProcFee = ProcFee + 1 "
                               "WHERE ProcNum = %s", [(key,) for key in keys])
        started = time.perf_counter()
        again = sync_source(engine, "bench", source, SyncSettings())
        pulled = time.perf_counter() - started
        totals = reconcile_source(engine, "bench", mappings, arguments.today,
                                  complete_run=again.outcome == "ok", run_id=again.run_id)
        print(f"incremental, 1,000 changed: pull {pulled * 1000:.0f} ms + reconcile "
              f"{totals.seconds * 1000:.0f} ms ({totals.patients:,} patients) = "
              f"{(pulled + totals.seconds) * 1000:.0f} ms")
        print(f"peak memory:               "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MB")
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
