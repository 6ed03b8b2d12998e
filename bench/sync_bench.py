"""Benchmark: a full and incremental Open Dental sync against a large synthetic practice.

Measures in one run, each figure beside its floor:
  * full sync time (mysqlclient and pymysql) against the same columns streamed by the C client
    (`mysql --quick > /dev/null`) and by each Python client with one plain SELECT per stream;
  * peak memory (RSS) of the sync process;
  * the longest single statement the sync ran on the PMS;
  * the worst stall of a front-desk writer updating procedurelog every 10 ms on MyISAM, during
    the sync and, for comparison, during one plain streamed SELECT of procedurelog;
  * an incremental cycle with nothing changed, and with 1,000 changed rows.

`measure` returns these figures as data (bench/report.py reports them); `print_figures`
prints them.

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    python bench/sync_bench.py --patients 60000            # load the practice, then measure
    python bench/sync_bench.py --patients 60000 --reuse    # reuse database tc_bench as loaded
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pymysql

from tc_sync.adapter.loading import load_adapter
from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.drivers.base import to_pyformat

HOST = os.environ.get("TC_SYNC_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("TC_SYNC_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("TC_SYNC_TEST_MYSQL_USER", "root")
PASSWORD = os.environ.get("TC_SYNC_TEST_MYSQL_PASSWORD", "")
SAFETY_LAG = 10
FULL_READ = {"after_key": 0, "until_key": 2**62, "since": None, "batch_size": 2**62}


def connect(database: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD,
                           database=database, autocommit=True, charset="utf8mb4")


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    On Linux from VmHWM in /proc/self/status: ru_maxrss also counts the memory the parent
    held when it started this process (the kernel carries it across the exec), so a sync
    started by a large process would report the parent's size.
    """
    try:
        found = re.search(r"^VmHWM:\s*(\d+) kB", Path("/proc/self/status").read_text(),
                          re.MULTILINE)
    except OSError:
        found = None
    if found:
        return int(found.group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stream_selects(database: str) -> dict[str, str]:
    """Each stream's SQL as one plain SELECT of every row (the floors read exactly this)."""
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(load_adapter("opendental").manifest.version.query)
        version = str(cursor.fetchone()[0])
        return {stream.name: cursor.mogrify(to_pyformat(stream.sql), FULL_READ)
                for stream in load_adapter("opendental").streams(version)}


def floor_c_client(database: str, selects: dict[str, str]) -> float:
    started = time.perf_counter()
    for sql in selects.values():
        subprocess.run(["mysql", "--quick", "--batch", "--skip-column-names", "-h", HOST,
                        "-P", str(PORT), "-u", USER, f"--password={PASSWORD}", database,
                        "-e", sql], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def floor_python(database: str, selects: dict[str, str], client: str) -> tuple[float, int]:
    """One streamed (unbuffered) plain SELECT per stream with the client's own conversions."""
    if client == "mysqlclient":
        import MySQLdb
        import MySQLdb.cursors

        connection = MySQLdb.connect(host=HOST, port=PORT, user=USER, password=PASSWORD,
                                     database=database, charset="utf8mb4")
        cursor = connection.cursor(MySQLdb.cursors.SSCursor)
    else:
        connection = connect(database)
        cursor = connection.cursor(pymysql.cursors.SSCursor)
    rows = 0
    started = time.perf_counter()
    for sql in selects.values():
        cursor.execute(sql)
        while chunk := cursor.fetchmany(10_000):
            rows += len(chunk)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, rows


@dataclass
class Stall:
    worst_ms: float = 0.0
    updates: int = 0


class FrontDesk(threading.Thread):
    """Updates a random procedurelog row every 10 ms and records the slowest update."""

    def __init__(self, database: str, max_key: int) -> None:
        super().__init__(daemon=True)
        self.database, self.max_key = database, max_key
        self.stall = Stall()
        self.stop = threading.Event()

    def run(self) -> None:
        connection = connect(self.database)
        rng = random.Random(1)
        with connection.cursor() as cursor:
            while not self.stop.is_set():
                started = time.perf_counter()
                cursor.execute("UPDATE procedurelog SET UnitQty = UnitQty WHERE ProcNum = %s",
                               (rng.randint(1, self.max_key),))
                elapsed = (time.perf_counter() - started) * 1000
                self.stall.worst_ms = max(self.stall.worst_ms, elapsed)
                self.stall.updates += 1
                time.sleep(0.01)
        connection.close()


def child_sync(database: str, ledger: str, client: str, mode: str) -> None:
    """Run one sync in this (child) process and print its figures as JSON."""
    from tc_sync.ledger.db import open_ledger
    from tc_sync.pull.run import sync_source

    engine = open_ledger(f"sqlite:///{ledger}")
    source = SourceSettings(kind="opendental", connection=ConnectionSettings(
        driver=client, host=HOST, port=PORT, user=USER, password=PASSWORD or None,
        database=database, read_timeout=600))
    # A short safety lag, so that "nothing changed" means nothing written since shortly before
    # the previous cycle (with the default 120 s, writes from the last two minutes are re-read).
    result = sync_source(engine, "bench", source, SyncSettings(safety_lag_seconds=SAFETY_LAG),
                         full=mode == "full")
    engine.dispose()
    print(json.dumps({
        "outcome": result.outcome, "seconds": result.seconds, "rows": result.rows_read,
        "statements": result.statements,
        "longest_statement_ms": result.longest_statement_seconds * 1000,
        "changed": sum(t.rows_inserted + t.rows_updated + t.rows_deleted
                       for t in result.streams),
        "peak_rss_mb": peak_rss_mb(),
        "error": result.error,
        "cpu_seconds": own_cpu_seconds(),
    }))


def own_cpu_seconds() -> float:
    """CPU time (user + system, every thread) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds() -> float | None:
    """CPU time (user + system) of the local mariadbd (or mysqld) process so far; None when
    the server runs elsewhere."""
    for name in ("mariadbd", "mysqld"):
        found = subprocess.run(["pidof", name], capture_output=True, text=True, check=False)
        if found.stdout.strip():
            return process_cpu_seconds(int(found.stdout.split()[0]))
    return None


@dataclass
class SyncRun:
    """One sync's figures, as its child process reported them."""

    outcome: str
    seconds: float
    rows: int
    statements: int
    longest_statement_ms: float
    changed: int
    peak_rss_mb: float
    error: str | None = None
    cpu_seconds: float = 0.0
    """The sync process's own CPU time, every thread."""
    server_cpu_seconds: float | None = None
    """The PMS server's CPU time meanwhile (None: not a local server), for every client."""

    def cpu_floor_seconds(self, cores: int) -> float:
        """The least wall time this sync's CPU work could take on `cores` cores: its own
        process's CPU and the server's, spread perfectly over the cores."""
        return (self.cpu_seconds + (self.server_cpu_seconds or 0.0)) / max(1, cores)

    def cpu_text(self, cores: int) -> str:
        """The CPU both sides spent, and the wall time that bounds on `cores` cores."""
        server = ("not measured (not a local server)" if self.server_cpu_seconds is None
                  else f"{self.server_cpu_seconds:.1f} s")
        return (f"CPU: the sync's process {self.cpu_seconds:.1f} s, the PMS server {server}: "
                f"at least {self.cpu_floor_seconds(cores):.1f} s on {cores} "
                f"core{'s' if cores > 1 else ''} however the work were split")


def run_child(database: str, ledger: Path, client: str, mode: str) -> SyncRun:
    server_before = server_cpu_seconds()
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--client", client,
                           "--database", database, "--ledger", str(ledger)],
                          capture_output=True, text=True, check=True)
    server_after = server_cpu_seconds()
    figures = SyncRun(**json.loads(done.stdout.strip().splitlines()[-1]))
    if server_before is not None and server_after is not None:
        figures.server_cpu_seconds = server_after - server_before
    if figures.outcome != "ok":
        raise SystemExit(f"sync failed: {figures.error}")
    return figures


def load(database: str, patients: int, engine: str, today: date | None = None) -> None:
    """(Re)load the synthetic practice; `today` is the day it is built around (default: the
    practice's own 2025-06-16)."""
    from tc_sync.demo.practice import PracticeSpec, write_mysql

    with connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database} CHARACTER SET utf8")
    with connect(database) as connection:
        started = time.perf_counter()
        write_mysql(connection, PracticeSpec.large(patients, today=today), engine=engine)
        print(f"loaded {patients:,} patients in {time.perf_counter() - started:.0f} s")


def table_counts(database: str) -> dict[str, int]:
    with connect(database) as connection, connection.cursor() as cursor:
        counts = {}
        for table in ("patient", "procedurelog", "claim", "claimproc", "appointment"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = int(cursor.fetchone()[0])
        return counts


def change_rows(database: str, count: int) -> None:
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT MAX(ProcNum) FROM procedurelog")
        top = int(cursor.fetchone()[0])
        keys = random.Random(2).sample(range(1, top + 1), count)
        cursor.executemany("UPDATE procedurelog SET ProcFee = ProcFee + 1 WHERE ProcNum = %s",
                           [(key,) for key in keys])


def change_scan_floor(database: str, connections: int, window_keys: int = 50_000) -> float:
    """The PMS server's own work in finding changed procedurelog rows: every key window's bare
    statement (the sync's predicates, a COUNT instead of rows), on `connections` side by side,
    as an incremental pull scans them. No tc-sync code runs."""
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT MAX(ProcNum), NOW() - INTERVAL 1 HOUR FROM procedurelog")
        top, since = cursor.fetchone()
    windows = [(low, min(low + window_keys, int(top))) for low in range(0, int(top), window_keys)]

    def scan(share: list[tuple[int, int]]) -> None:
        with connect(database) as connection, connection.cursor() as cursor:
            for low, high in share:
                cursor.execute("SELECT COUNT(*) FROM procedurelog WHERE ProcNum > %s AND "
                               "ProcNum <= %s AND DateTStamp >= %s", (low, high, since))

    threads = [threading.Thread(target=scan, args=(windows[i::connections],))
               for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def stall_during(database: str, action: Callable[[], object]) -> Stall:
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT MAX(ProcNum) FROM procedurelog")
        top = int(cursor.fetchone()[0])
    desk = FrontDesk(database, top)
    desk.start()
    time.sleep(0.2)
    try:
        action()
    finally:
        desk.stop.set()
        desk.join()
    return desk.stall


@dataclass
class ClientFigures:
    """One client's full sync beside its own floor."""

    client: str
    rows: int
    floor_seconds: float
    """One streamed plain SELECT per stream, with this client."""
    full: SyncRun
    stall: Stall
    """The front desk's worst stall during this full sync."""


@dataclass
class SyncFigures:
    """Everything `measure` found, each figure with the floor it is read against."""

    counts: dict[str, int]
    c_floor_seconds: float
    """Every stream's plain SELECT through `mysql --quick > /dev/null`."""
    clients: list[ClientFigures]
    plain_read_seconds: float
    """One plain SELECT of procedurelog (C client), the read a sync never makes."""
    plain_read_stall: Stall
    """The front desk's worst stall during that plain SELECT."""
    quiet: SyncRun
    """The first incremental cycle after the full sync."""
    idle: SyncRun
    """An incremental cycle with nothing changed."""
    changed: SyncRun
    """An incremental cycle after 1,000 procedurelog rows changed."""
    change_scan_floor: dict[int, float]
    """Seconds the PMS server alone takes to examine procedurelog's key windows for changes,
    by number of connections scanning side by side (the changed cycle's floor)."""


def measure(database: str, say: Callable[[str], None] = print) -> SyncFigures:
    """Run every measurement on the loaded practice and return the figures."""
    counts = table_counts(database)
    say("practice: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    selects = stream_selects(database)
    c_floor = floor_c_client(database, selects)
    clients = ["pymysql"]
    try:
        import MySQLdb  # noqa: F401

        clients.insert(0, "mysqlclient")
    except ImportError:
        say("mysqlclient is not installed: only pymysql is measured")
    work = Path(tempfile.mkdtemp(prefix="tc-sync-bench-"))
    try:
        report: list[ClientFigures] = []
        for client in clients:
            py_floor, rows = floor_python(database, selects, client)
            ledger = work / f"ledger-{client}.db"
            runs: list[SyncRun] = []
            stall = stall_during(database, lambda c=client, lg=ledger, out=runs: out.append(
                run_child(database, lg, c, "full")))
            report.append(ClientFigures(client, rows, py_floor, runs[0], stall))
        plain_read: list[float] = []
        plain_read_stall = stall_during(database, lambda: plain_read.append(floor_c_client(
            database, {"procedures": selects["procedures"]})))
        ledger = work / f"ledger-{clients[0]}.db"
        time.sleep(SAFETY_LAG + 1)     # the front desk's last write is now older than the lag
        quiet = run_child(database, ledger, clients[0], "incremental")
        idle = run_child(database, ledger, clients[0], "incremental")
        change_rows(database, 1000)
        changed = run_child(database, ledger, clients[0], "incremental")
        scan_floor = {n: change_scan_floor(database, n) for n in (1, 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return SyncFigures(counts, c_floor, report, plain_read[0], plain_read_stall, quiet, idle,
                       changed, scan_floor)


def print_figures(figures: SyncFigures) -> None:
    c_floor = figures.c_floor_seconds
    print(f"\nC client floor (mysql --quick > /dev/null): {c_floor:.1f} s")
    for run in figures.clients:
        full, py_floor = run.full, run.floor_seconds
        print(f"\n[{run.client}] {run.rows:,} rows")
        print(f"  floor, plain streamed SELECT:  {py_floor:7.1f} s")
        print(f"  full sync:                     {full.seconds:7.1f} s   "
              f"{full.seconds / py_floor:.2f}x own floor, "
              f"{full.seconds / c_floor:.2f}x C-client floor")
        print(f"  {full.cpu_text(os.cpu_count() or 1)}")
        print(f"  peak memory:                   {full.peak_rss_mb:7.0f} MB")
        print(f"  longest PMS statement:         {full.longest_statement_ms:7.0f} ms "
              f"({full.statements:,} statements)")
        print(f"  front desk worst stall:          {run.stall.worst_ms:5.0f} ms "
              f"over {run.stall.updates:,} updates")
    quiet, idle, changed = figures.quiet, figures.idle, figures.changed
    print(f"\nfront desk worst stall during one plain SELECT of procedurelog: "
          f"{figures.plain_read_stall.worst_ms:.0f} ms")
    print(f"incremental, nothing changed:    {idle.seconds * 1000:7.0f} ms "
          f"(the first after the full sync: {quiet.seconds * 1000:.0f} ms; "
          f"safety lag {SAFETY_LAG} s)")
    print(f"incremental, 1,000 rows changed: {changed.seconds * 1000:7.0f} ms, "
          f"{changed.changed} rows written, longest statement "
          f"{changed.longest_statement_ms:.0f} ms")
    floor = figures.change_scan_floor
    print("  the PMS's own work finding them (bare key-window statements): "
          + ", ".join(f"{seconds * 1000:.0f} ms on {n} connection(s)"
                      for n, seconds in sorted(floor.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=60_000)
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--engine", default="MyISAM", choices=["MyISAM", "InnoDB"])
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    parser.add_argument("--child", choices=["full", "incremental"], help=argparse.SUPPRESS)
    parser.add_argument("--client", default="pymysql", help=argparse.SUPPRESS)
    parser.add_argument("--ledger", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child_sync(arguments.database, arguments.ledger, arguments.client, arguments.child)
        return
    if not arguments.reuse:
        load(arguments.database, arguments.patients, arguments.engine)
    print_figures(measure(arguments.database))


if __name__ == "__main__":
    main()
