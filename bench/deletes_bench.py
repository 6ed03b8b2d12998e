"""Benchmark: what finding hard deletes in every incremental cycle costs the PMS server.

A synthetic practice is loaded into MariaDB (MyISAM, as Open Dental ships) and synced in full.
Then, for each table the adapter marks `hard_deletes`, one row is edited (so the stream is
pulled, not skipped), and an incremental cycle runs twice: with `sync.deletes_each_cycle` on
and off. The difference is the delete check's cost: statements, wall time, and the CPU the
MariaDB server process (mariadbd, from /proc) spent. Last, rows of each kind are deleted and
one cycle with the check finds them.

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    python bench/deletes_bench.py --patients 15000            # load, then measure
    python bench/deletes_bench.py --patients 15000 --reuse    # database tc_bench_deletes as is
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pymysql
from sync_bench import server_cpu_seconds

from tc_sync.adapter.loading import load_adapter
from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.run import sync_source

HOST = os.environ.get("TC_SYNC_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("TC_SYNC_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("TC_SYNC_TEST_MYSQL_USER", "root")
PASSWORD = os.environ.get("TC_SYNC_TEST_MYSQL_PASSWORD", "")
DATABASE = "tc_bench_deletes"


def connect(database: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD,
                           database=database, autocommit=True, charset="utf8mb4")


def local_server_cpu() -> float:
    """The local PMS server's CPU time so far; this benchmark needs a local server."""
    seconds = server_cpu_seconds()
    if seconds is None:
        raise SystemExit("no local mariadbd or mysqld process: the server's CPU cannot be read")
    return seconds


@dataclass
class Cycle:
    seconds: float
    server_cpu: float
    statements: int
    deleted: int


def run_cycle(engine, source: SourceSettings, options: SyncSettings) -> Cycle:
    cpu = local_server_cpu()
    started = time.perf_counter()
    result = sync_source(engine, "bench", source, options)
    assert result.outcome == "ok", result.error
    return Cycle(time.perf_counter() - started, local_server_cpu() - cpu, result.statements,
                 sum(s.rows_deleted for s in result.streams))


def touch_hard_delete_tables(database: str) -> list[str]:
    """Edit one row of each hard-deleted table, so each such stream is pulled."""
    adapter = load_adapter("opendental")
    tables = []
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(adapter.manifest.version.query)
        version = str(cursor.fetchone()[0])
        for stream in adapter.streams(version):
            spec = stream.spec
            if not spec.hard_deletes:
                continue
            cursor.execute(f"SELECT MAX({spec.key}) FROM {spec.table}")
            top = cursor.fetchone()[0]
            cursor.execute(f"UPDATE {spec.table} SET {spec.cursor} = NOW() "
                           f"WHERE {spec.key} = %s", (top,))
            tables.append(f"{spec.table} ({top:,} keys)")
    return tables


def delete_some(database: str, per_table: int) -> int:
    deleted = 0
    with connect(database) as connection, connection.cursor() as cursor:
        for table, key in (("appointment", "AptNum"), ("claim", "ClaimNum"),
                           ("patplan", "PatPlanNum")):
            cursor.execute(f"DELETE FROM {table} ORDER BY RAND() LIMIT {per_table}")
            deleted += cursor.rowcount
            del key
    return deleted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=15_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.reuse:
        with connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8")
        started = time.perf_counter()
        with connect(DATABASE) as connection:
            write_mysql(connection, PracticeSpec(patients=args.patients, today=date.today()))
        print(f"loaded {args.patients:,} patients in {time.perf_counter() - started:.0f} s")
    source = SourceSettings(kind="opendental", connection=ConnectionSettings(
        host=HOST, port=PORT, user=USER, password=PASSWORD or None, database=DATABASE))
    with tempfile.TemporaryDirectory() as folder:
        engine = open_ledger(f"sqlite:///{Path(folder) / 'ledger.db'}")
        started = time.perf_counter()
        sync_source(engine, "bench", source, SyncSettings(), full=True)
        print(f"full sync {time.perf_counter() - started:.1f} s")
        on, off = SyncSettings(), SyncSettings(deletes_each_cycle=False)
        with_check, without = [], []
        for _ in range(args.rounds):
            tables = touch_hard_delete_tables(DATABASE)
            with_check.append(run_cycle(engine, source, on))
            touch_hard_delete_tables(DATABASE)
            without.append(run_cycle(engine, source, off))
        print("hard-deleted tables, one row edited in each: " + ", ".join(tables))
        best_on = min(with_check, key=lambda c: c.server_cpu)
        best_off = min(without, key=lambda c: c.server_cpu)
        print(f"{'cycle':<28}{'wall s':>8}{'server CPU s':>14}{'statements':>12}")
        for name, cycle in (("with the delete check", best_on),
                            ("without (sweep only)", best_off)):
            print(f"{name:<28}{cycle.seconds:>8.3f}{cycle.server_cpu:>14.3f}"
                  f"{cycle.statements:>12}")
        print(f"the check: +{best_on.server_cpu - best_off.server_cpu:.3f} s of server CPU, "
              f"+{best_on.statements - best_off.statements} statements, "
              f"+{best_on.seconds - best_off.seconds:.3f} s wall (best of {args.rounds})")
        removed = delete_some(DATABASE, 10)
        found = run_cycle(engine, source, on)
        print(f"deleted {removed} rows (appointments, claims, coverages): the next cycle found "
              f"{found.deleted} in {found.seconds:.3f} s, {found.server_cpu:.3f} s server CPU")
        engine.dispose()


if __name__ == "__main__":
    main()
