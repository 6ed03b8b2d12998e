"""Benchmark: the first morning after a large practice's first full sync.

Syncs a synthetic Open Dental practice (MariaDB) in full into a fresh SQLite ledger, reconciles
it with three coordinators named as owners (insurance; treatment; scheduling), and prints what
the first morning looks like: open items per queue, how many are due on day one per owner (the
workload's capacity caps it), the share of items in the aged queue, and the ten highest items
with their reasons. Synthetic data only; the print holds item keys, amounts and reasons.

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    python bench/workload_bench.py --patients 60000            # load the practice, then measure
    python bench/workload_bench.py --database tc_bench_deletes # a practice already loaded
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pymysql
import sqlalchemy as sa

from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items
from tc_sync.pull.run import sync_source

HOST = os.environ.get("TC_SYNC_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("TC_SYNC_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("TC_SYNC_TEST_MYSQL_USER", "root")
PASSWORD = os.environ.get("TC_SYNC_TEST_MYSQL_PASSWORD", "")
OWNERS = """owners:
  dana: {queues: [insurance]}
  ana: {queues: [treatment]}
  ben: {queues: [scheduling]}
"""


def load(database: str, patients: int) -> None:
    with pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD,
                         autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        cursor.execute(f"CREATE DATABASE {database} CHARACTER SET utf8")
    with pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database=database,
                         autocommit=True, charset="utf8mb4") as connection:
        write_mysql(connection, PracticeSpec(patients=patients, today=date.today()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=60_000)
    parser.add_argument("--database", default=None, help="reuse this loaded practice")
    args = parser.parse_args()
    database = args.database or "tc_bench_workload"
    if args.database is None:
        started = time.perf_counter()
        load(database, args.patients)
        print(f"loaded {args.patients:,} patients in {time.perf_counter() - started:.0f} s")
    source = SourceSettings(kind="opendental", connection=ConnectionSettings(
        host=HOST, port=PORT, user=USER, password=PASSWORD or None, database=database))
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "mappings.yaml"
        site.write_text(OWNERS)
        mappings = load_mappings(site)
        engine = open_ledger(f"sqlite:///{Path(folder) / 'ledger.db'}")
        started = time.perf_counter()
        result = sync_source(engine, "bench", source, SyncSettings(), full=True)
        synced = time.perf_counter() - started
        totals = reconcile_source(engine, "bench", mappings, date.today(), complete_run=True,
                                  run_id=result.run_id, full=True)
        print(f"full sync {synced:.1f} s ({result.rows_read:,} rows); reconcile "
              f"{totals.seconds:.1f} s for {totals.patients:,} patients; "
              f"{totals.by_event.get('planned', 0):,} follow-ups planned")
        with engine.connect() as connection:
            rows = connection.execute(sa.select(
                items.c.item_key, items.c.queue, items.c.owner, items.c.next_follow_up,
                items.c.priority, items.c.amount, items.c.details).where(
                items.c.status == "open")).all()
        today = date.today()
        print(f"open items: {len(rows):,}; per queue: {dict(Counter(r.queue for r in rows))}")
        due = Counter((r.owner or f"({r.queue}, unowned)") for r in rows
                      if r.next_follow_up <= today and r.queue != mappings.aged_queue)
        print(f"due on day one per owner (capacity {mappings.workload.capacity_per_day}): "
              f"{dict(due)}")
        aged = sum(1 for r in rows if r.queue == mappings.aged_queue)
        print(f"aged: {aged:,} of {len(rows):,} ({aged / max(len(rows), 1):.0%})")
        print("the ten highest:")
        for row in sorted(rows, key=lambda r: -r.priority)[:10]:
            reasons = json.loads(row.details).get("reasons", [])
            print(f"  {row.priority:7.2f}  {row.item_key:<44} {'; '.join(reasons)}")
        engine.dispose()


if __name__ == "__main__":
    main()
