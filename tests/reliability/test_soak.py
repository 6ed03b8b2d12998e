"""Soak: 1,000 daemon cycles against a practice that keeps changing; memory stays flat and the
ledger grows with the data it holds, not with the number of cycles.

Each cycle is the daemon's own job (`Daemon.run_job`: mappings reloaded, the adapter read,
sync, reconcile, metrics and logging), run back to back in this process against a small
synthetic Open Dental practice in MariaDB and a SQLite ledger. Before each cycle a few rows
change the way Open Dental changes them, some of them new (tests/reliability/practice_changes);
every 250 cycles is a "night": a hard delete, then the nightly full sweep. Time is compressed
(cycles run back to back, not every 5 minutes), so the safety lag is 1 s rather than 120 s:
re-reading the last two minutes would re-read hundreds of cycles' changes. The work queues are
off (they are rebuilt from the same items; their own tests cover them).

Measured every 20 cycles: the process's resident memory (/proc/self/statm), the Python heap's
allocated blocks (`sys.getallocatedblocks`), the ledger's size (pages in use, free pages, the
files) and every table's row count; over the last 50 cycles, what tracemalloc sees retained
(tracing slows a cycle four times, so it watches only that window). After a warm-up quarter:

* resident memory of the last quarter is within 6 MB of the second quarter's, and the Python
  heap's blocks within 3%; the traced window retains under 4 KiB a cycle (after a collection);
* every cycle's run ended `ok`; tables that hold state (cursors, sources, reconcile_state)
  do not grow; sync_runs gains one row a cycle and sync_run_streams at most one per stream:
  that is history, reported as bytes per cycle, which must stay under 2 KiB;
* rows grow with the practice's changes, not with cycles: a cycle in which nothing changed at
  the practice (every tenth) writes no item, item event or replica row; the replica gains
  exactly the rows inserted in the PMS, and item events stay under 3 per PMS row changed;
* the ledger's growth is explained by the rows added: each table's rows added times its bytes
  per row at the end of the warm-up (SQLite's dbstat), plus at most 30% and 256 KiB for pages
  not yet full; free pages stay under 256 KiB;
* at the end, the ledger is sound and equals a ledger built from scratch over the same PMS
  (replica, open items: tests/reliability/ledger_checks.py).

`TC_SYNC_SOAK_CYCLES` changes the number of cycles (default 1,000).
"""

from __future__ import annotations

import gc
import os
import random
import sqlite3
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tc_sync.adapter.loading import load_adapter
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import REPLICA_TABLES
from tc_sync.runtime.daemon import Daemon
from tests.reliability.ledger_checks import check_items, check_replica, check_sqlite, make_site
from tests.reliability.ledger_checks import scratch_ledger as clean_ledger
from tests.reliability.practice_changes import PracticeChanges

pytestmark = [pytest.mark.mysql,
              pytest.mark.skipif(not Path("/proc/self/statm").exists(),
                                 reason="resident memory is read from /proc")]

CYCLES = int(os.environ.get("TC_SYNC_SOAK_CYCLES", "1000"))
PATIENTS = 40
SAMPLE_EVERY = 20
NIGHT_EVERY = 250
NIGHT_AT = 120
"""Nights fall on cycles 120, 370, 620, 870: none in the traced window at the end."""
IDLE_EVERY = 10
IDLE_AT = 5
"""Every tenth cycle nothing changes at the practice: the cycle must write nothing but its run."""
TRACED = min(50, max(2, CYCLES // 10))
PRE_ROLL = 5
"""Traced cycles before the window: objects each cycle replaces (the mappings, the adapter)
are then traced on both sides of it, so the window sees growth, not replacement."""
STATE_TABLES = ("cursors", "sources", "reconcile_state")
PER_CYCLE = ("sync_runs", "sync_run_streams")
STREAMS = len(load_adapter("opendental").manifest.streams)
EVENTS_PER_CHANGE = 3
RSS_BOUND_MB = 6.0
HEAP_BOUND = 0.03
TRACED_BOUND = 4096
BOOKKEEPING_BOUND = 2048
SLACK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Sample:
    cycle: int
    seconds: float
    rss: int
    blocks: int
    pages: int
    free_pages: int
    page_size: int
    files: int
    rows: dict[str, int]
    pms_inserted: int
    pms_changed: int
    """Rows the practice changes inserted, and inserted, updated or deleted, so far."""

    @property
    def used(self) -> int:
        return (self.pages - self.free_pages) * self.page_size


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(ledger: Path, cycle: int, started: float, changes: PracticeChanges) -> Sample:
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'")]
        rows = {name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                for name in tables}
        pages, free, size = (connection.execute(f"PRAGMA {pragma}").fetchone()[0]
                             for pragma in ("page_count", "freelist_count", "page_size"))
    finally:
        connection.close()
    files = sum(path.stat().st_size for path in ledger.parent.glob(f"{ledger.name}*")
                if path.suffix != ".lock")
    return Sample(cycle, time.monotonic() - started, resident_bytes(), sys.getallocatedblocks(),
                  pages, free, size, files, rows, changes.rows_inserted,
                  changes.rows_inserted + changes.rows_updated + changes.rows_deleted)


def bytes_per_table(ledger: Path) -> dict[str, int] | None:
    """Bytes each table takes with its indexes (None where SQLite lacks the dbstat table)."""
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema"))
        sizes = connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
    except sqlite3.OperationalError:                  # no such table: dbstat
        connection.close()
        return None
    per_table: dict[str, int] = {}
    for name, size in sizes.fetchall():
        table = owner.get(name, name)
        per_table[table] = per_table.get(table, 0) + int(size)
    connection.close()
    return per_table


def still(ledger: Path) -> tuple[object, ...]:
    """What a cycle without PMS changes must leave as it was: the items and their events, and
    every replica table's rows and latest write."""
    parts = ["(SELECT COUNT(*) FROM item_events)", "(SELECT COUNT(*) FROM items)",
             "(SELECT MAX(updated_at) FROM items)"]
    for table in REPLICA_TABLES.values():
        parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX(last_changed) FROM {table})"]
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        return tuple(connection.execute(f"SELECT {', '.join(parts)}").fetchone())
    finally:
        connection.close()


def quarter_mean(samples: list[Sample], quarter: int, value: str) -> float:
    """Mean of `value` over the samples of one quarter of the cycles (1 to 4)."""
    low, high = CYCLES * (quarter - 1) / 4, CYCLES * quarter / 4
    return statistics.fmean(getattr(s, value) for s in samples if low < s.cycle <= high)


def test_a_thousand_cycles_keep_memory_flat_and_ledger_growth_in_step_with_data(
        mysql_server, mysql_database, tmp_path, reliability):
    assert CYCLES >= 8 * SAMPLE_EVERY, "too few cycles to compare quarters"
    ledger = tmp_path / "ledger.db"
    site = make_site(tmp_path, mysql_server, mysql_database, f"sqlite:///{ledger}", seed=21,
                     patients=PATIENTS, push=False, sync={"safety_lag_seconds": 1})
    engine = open_ledger(site.url)
    daemon = Daemon(engine, site.settings, MappingsKeeper(site.settings.mappings_file))
    rng = random.Random(20261205)
    samples: list[Sample] = []
    warm_bytes: dict[str, int] | None = None
    warm_cycle = -(-CYCLES // 4 // SAMPLE_EVERY) * SAMPLE_EVERY     # the first sample after
    started = time.monotonic()
    window: list[tracemalloc.Snapshot] = []
    idle_writes: list[int] = []
    try:
        for cycle in range(1, CYCLES + 1):
            night = cycle % NIGHT_EVERY == NIGHT_AT
            idle = cycle % IDLE_EVERY == IDLE_AT and cycle > 1
            before = still(ledger) if idle else None
            if not idle:
                site.changes.change(rng.randint(1, 3), deletes=night)
            if cycle == CYCLES - TRACED - PRE_ROLL + 1:
                tracemalloc.start()
            daemon.run_job("main", night)
            if before is not None and still(ledger) != before and (
                    datetime.now(UTC).date() == site.today):   # not a new day's evaluation
                idle_writes.append(cycle)
            if cycle in (CYCLES - TRACED, CYCLES):
                gc.collect()                      # count what is alive, not garbage not yet due
                window.append(tracemalloc.take_snapshot())
            if cycle % SAMPLE_EVERY == 0:
                samples.append(measure(ledger, cycle, started, site.changes))
            if cycle == warm_cycle:
                warm_bytes = bytes_per_table(ledger)
        seconds = time.monotonic() - started
        end_bytes = bytes_per_table(ledger)
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        engine.dispose()

    problems: list[str] = []
    warm = next(s for s in samples if s.cycle == warm_cycle)
    last = samples[-1]
    cycles = last.cycle - warm.cycle

    # memory
    rss_growth = (quarter_mean(samples, 4, "rss") - quarter_mean(samples, 2, "rss")) / 2**20
    heap_growth = quarter_mean(samples, 4, "blocks") / quarter_mean(samples, 2, "blocks") - 1
    grown = sorted(window[1].compare_to(window[0], "lineno"), key=lambda d: -d.size_diff)
    retained = sum(d.size_diff for d in grown) / TRACED
    if rss_growth > RSS_BOUND_MB:
        problems.append(f"resident memory grew {rss_growth:.1f} MB from the second quarter to "
                        f"the last (bound {RSS_BOUND_MB} MB)")
    if heap_growth > HEAP_BOUND:
        problems.append(f"the Python heap grew {heap_growth:.1%} from the second quarter to "
                        f"the last (bound {HEAP_BOUND:.0%})")
    if retained > TRACED_BOUND:
        problems.append(f"tracemalloc: {retained:,.0f} bytes retained a cycle over the last "
                        f"{TRACED} cycles (bound {TRACED_BOUND:,}); most at: "
                        + "; ".join(str(d) for d in grown[:5]))

    # runs and per-cycle history
    outcomes = run_outcomes(ledger)
    if outcomes != {"ok": CYCLES}:
        problems.append(f"run outcomes over {CYCLES} cycles: {outcomes}")
    for table in STATE_TABLES:
        if last.rows[table] != warm.rows[table]:
            problems.append(f"{table} grew from {warm.rows[table]} to {last.rows[table]} rows")
    runs_added = last.rows["sync_runs"] - warm.rows["sync_runs"]
    streams_added = last.rows["sync_run_streams"] - warm.rows["sync_run_streams"]
    if runs_added != cycles or streams_added > STREAMS * cycles:
        problems.append(f"{runs_added} sync_runs and {streams_added} sync_run_streams rows "
                        f"for {cycles} cycles")

    # rows added against what changed in the practice
    if idle_writes:
        problems.append(f"{len(idle_writes)} cycles without a PMS change wrote items, events "
                        f"or replica rows (cycles {idle_writes[:5]}...)")
    added = {table: last.rows[table] - warm.rows[table] for table in last.rows}
    inserted = last.pms_inserted - warm.pms_inserted
    changed = last.pms_changed - warm.pms_changed
    replica_added = sum(added[table] for table in REPLICA_TABLES.values())
    if replica_added != inserted:
        problems.append(f"the replica gained {replica_added} rows for {inserted} rows inserted "
                        "in the PMS")
    if added["item_events"] > EVENTS_PER_CHANGE * changed:
        problems.append(f"{added['item_events']} item events for {changed} PMS rows changed "
                        f"(bound {EVENTS_PER_CHANGE} a row)")

    # ledger size against the rows added
    growth = last.used - warm.used
    if warm_bytes is not None and end_bytes is not None:
        rate = {table: warm_bytes.get(table, 0) / max(1, warm.rows.get(table, 0))
                for table in last.rows}
        explained = sum(max(0, n) * rate[table] for table, n in added.items())
        bookkeeping = sum(end_bytes.get(t, 0) - warm_bytes.get(t, 0) for t in PER_CYCLE)
        if growth > 1.3 * explained + SLACK_BYTES:
            problems.append(f"the ledger grew {growth:,} bytes for rows explaining "
                            f"{explained:,.0f} (bound: 30% and {SLACK_BYTES:,} more)")
    else:                         # no dbstat: only the bookkeeping tables' share is unknown
        explained = float("nan")
        bookkeeping = growth
    per_cycle = bookkeeping / cycles
    if per_cycle > BOOKKEEPING_BOUND:
        problems.append(f"run history takes {per_cycle:,.0f} bytes a cycle "
                        f"(bound {BOOKKEEPING_BOUND:,})")
    if last.free_pages * last.page_size > SLACK_BYTES:
        problems.append(f"{last.free_pages} free pages in the ledger")

    # the ledger is still right
    problems += check_sqlite(ledger)
    clean = clean_ledger(site)
    try:
        problems += check_replica(site, clean) + check_items(site, clean)
    finally:
        clean.dispose()
        site.ledger.dispose()
        site.pms.close()

    data_rows = sum(n for table, n in added.items() if table not in PER_CYCLE)
    changes = site.changes
    events_per_change = added["item_events"] / max(1, changed)
    figure = (f"{CYCLES:,} cycles in {seconds:.0f} s ({seconds / CYCLES * 1000:.0f} ms each); "
              f"RSS {rss_growth:+.1f} MB and Python heap {heap_growth:+.1%} (2nd to 4th "
              f"quarter), {retained / 1024:+.1f} KiB/cycle traced; ledger "
              f"{warm.used / 2**20:.1f} -> {last.used / 2**20:.1f} MiB for {data_rows:,} rows "
              f"added ({changes.rows_inserted:,} PMS rows inserted, {changes.rows_updated:,} "
              f"updated, {changes.rows_deleted} deleted; {events_per_change:.2f} item events a "
              f"row changed), run history {per_cycle / 1024:.1f} KiB/cycle")
    reliability.record("soak: daemon cycles against a changing practice", runs=CYCLES,
                       failures=len(problems), figure=figure)
    assert not problems, "\n".join(problems)


def run_outcomes(ledger: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        return dict(connection.execute(
            "SELECT outcome, COUNT(*) FROM sync_runs GROUP BY outcome").fetchall())
    finally:
        connection.close()
