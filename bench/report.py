"""The benchmark report (issue 8): every figure beside its target, in one Markdown file.

Builds the large practice and a smaller one in MariaDB (or reuses both with --reuse), then
measures on each, in this one run, with the other benchmark scripts' own functions:
  * bench/sync_bench.py: full syncs with mysqlclient and pymysql beside the C client's and each
    client's own plain-SELECT floor, peak memory, the longest PMS statement, the front desk's
    worst stall on MyISAM (beside its stall during one plain SELECT), incremental cycles;
  * bench/items_bench.py: a full evaluation of the items beside the pull, incremental reconcile;
  * bench/queues_bench.py: building the work queues from those items, beside reading them;
and once bench/push_bench.py: the outbox's own cost, tasks/s through the Open Dental API
stand-in. Growth: each cost on the large practice over the same cost on the smaller one,
beside the ratio of their patients.

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    bench/run                  # (re)load tc_bench (60,000 patients) and tc_bench15 (15,000)
    bench/run --reuse          # measure them as they are loaded
    bench/run --reuse --steady-state steady.json   # and add bench/steady_state.py's rows
    bench/run --patients 3000 --growth-patients 1000 \\
        --database tc_report_large --growth-database tc_report_small --out /tmp/report.md
The report goes to bench/out/report.md unless --out says otherwise. Exit status 0 when every
figure was measured (met or not), 1 when a step failed (its figures read "not measured" and the
report says why), 2 for bad arguments or a practice that is not there to reuse.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import items_bench
import push_bench
import queues_bench
import steady_report
import sync_bench
from items_bench import ItemsFigures
from push_bench import PushFigures
from queues_bench import QueueFigures
from report_md import (
    FLAT,
    Header,
    Row,
    Section,
    Target,
    count,
    divide,
    growth_row,
    linear,
    ratio,
    render,
    seconds,
    tally,
)
from sync_bench import ClientFigures, SyncFigures

from tc_sync.observability import logs

BENCH = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH / "out" / "report.md"
CLIENTS = ("mysqlclient", "pymysql")
"""The clients a full report measures (sync_bench measures mysqlclient only if installed)."""

FULL_SYNC = {
    "mysqlclient": Target(3.0, "≤ 3x the C-client floor"),
    "pymysql": Target(1.5, "≤ 1.5x its own floor"),
}
IDLE = Target(0.1, "≤ 100 ms")
CHANGED = Target(1.0, "≤ 1 s")
EVALUATION = Target(2.0, "≤ 2x the pull")
INCREMENTAL_RECONCILE = Target(1.0, "≤ 1 s, pull + reconcile")
QUEUE_BUILD = Target(10.0, "≤ 10 s", ours=True)
OUTBOX = Target(2.0, "≤ 2 ms per action", ours=True)
THROUGHPUT = Target(50.0, "≥ 50 tasks/s", at_least=True, ours=True)
MEMORY = Target(250.0, "≤ 250 MB")
STATEMENT = Target(250.0, "≤ 250 ms")
STALL = Target(300.0, "≤ 300 ms")

T = TypeVar("T")


@dataclass
class Practice:
    label: str
    """"large" or "growth"."""
    database: str
    patients: int = 0
    built_seconds: float | None = None
    """How long loading it took; None when reused."""
    sync: SyncFigures | None = None
    items: ItemsFigures | None = None
    queues: QueueFigures | None = None

    @property
    def rows(self) -> int | None:
        """PMS rows one full sync reads."""
        if self.sync and self.sync.clients:
            return self.sync.clients[0].full.rows
        return self.items.pull_rows if self.items else None

    def client(self, name: str) -> ClientFigures | None:
        return next((c for c in self.sync.clients if c.client == name), None) if self.sync \
            else None


# --- from figures to rows (pure) ------------------------------------------------------------


def full_sync_rows(practice: Practice) -> list[Row]:
    rows = []
    sync = practice.sync
    for name in CLIENTS:
        run = practice.client(name)
        measure = f"Full sync, {name}"
        if sync is None or run is None:
            rows.append(Row(measure, "—", None, FULL_SYNC[name], "—"))
            continue
        full, c_floor, own = run.full.seconds, sync.c_floor_seconds, run.floor_seconds
        against_c = divide(full, c_floor)
        against_own = divide(full, own)
        c_text = f"C client `mysql --quick > /dev/null`: {seconds(c_floor)}"
        own_text = f"{name}'s own plain streamed SELECT: {seconds(own)}"
        if name == "mysqlclient":
            value, figure = against_c, f"{seconds(full)} = {ratio(against_c or 0)} the C floor"
            against = f"{c_text}; {own_text} (sync {ratio(against_own or 0)} of it)"
            if run.full.cpu_seconds:
                against += f"; {run.full.cpu_text(os.cpu_count() or 1)}"
        else:
            value, figure = against_own, f"{seconds(full)} = {ratio(against_own or 0)} its floor"
            against = f"{own_text}; {c_text} (sync {ratio(against_c or 0)} of it)"
        rows.append(Row(measure, figure, value, FULL_SYNC[name], against))
    return rows


def incremental_rows(practice: Practice) -> list[Row]:
    sync = practice.sync
    if sync is None or not sync.clients:
        return [Row("Incremental, nothing changed", "—", None, IDLE, "—"),
                Row("Incremental, 1,000 rows changed", "—", None, CHANGED, "—")]
    first = sync.clients[0]
    baseline = (f"the full sync it replaces ({first.client}): {seconds(first.full.seconds)}; "
                f"the first cycle after it: {seconds(sync.quiet.seconds)}")
    changed = sync.changed
    return [
        Row("Incremental, nothing changed", seconds(sync.idle.seconds), sync.idle.seconds,
            IDLE, baseline),
        Row("Incremental, 1,000 rows changed",
            f"{seconds(changed.seconds)} ({count(changed.changed)} rows written, longest "
            f"statement {changed.longest_statement_ms:.0f} ms)", changed.seconds, CHANGED,
            "the PMS server's own work examining procedurelog's key windows for changes "
            "(bare statements, no tc-sync): " + ", ".join(
                f"{seconds(floor)} on {n} connection{'s' if n > 1 else ''}"
                for n, floor in sorted(sync.change_scan_floor.items()))
            + f"; {baseline}"),
    ]


def reconcile_rows(practice: Practice) -> list[Row]:
    items = practice.items
    if items is None:
        return [Row("Full evaluation of the items", "—", None, EVALUATION, "—"),
                Row("Incremental reconcile, 1,000 rows changed", "—", None,
                    INCREMENTAL_RECONCILE, "—")]
    times = divide(items.evaluation_seconds, items.pull_seconds)
    total = items.incremental_pull_seconds + items.reconcile_seconds
    return [
        Row("Full evaluation of the items",
            f"{seconds(items.evaluation_seconds)} = {ratio(times or 0)} the pull "
            f"({count(items.patients)} patients, {count(items.opened)} items opened)",
            times, EVALUATION,
            f"the full pull just before it: {seconds(items.pull_seconds)} "
            f"({count(items.pull_rows)} rows)"),
        Row("Incremental reconcile, 1,000 rows changed",
            f"{seconds(total)}: pull {seconds(items.incremental_pull_seconds)} + reconcile "
            f"{seconds(items.reconcile_seconds)} ({count(items.reconciled_patients)} patients)",
            total, INCREMENTAL_RECONCILE,
            f"the full evaluation: {seconds(items.evaluation_seconds)}"),
    ]


def queue_rows(practice: Practice) -> list[Row]:
    queues = practice.queues
    if queues is None:
        return [Row("Work queues, every format", "—", None, QUEUE_BUILD, "—")]
    alone = ", ".join(f"{kind} {seconds(value)}" for kind, value in queues.per_format.items())
    return [Row("Work queues, every format",
                f"{seconds(queues.seconds)} ({count(queues.items)} open items, {queues.queues} "
                f"queues, {queues.files} files, {queues.megabytes:.1f} MB)",
                queues.seconds, QUEUE_BUILD,
                f"reading the open items with their replica rows (the build's first step): "
                f"{seconds(queues.read_seconds)}; each format alone: {alone}")]


def push_rows(push: PushFigures | None) -> list[Row]:
    if push is None:
        return [Row("Outbox overhead per action", "—", None, OUTBOX, "—"),
                Row("Tasks through the Open Dental API stand-in", "—", None, THROUGHPUT, "—")]
    overhead = divide(push.bare_seconds * 1000, push.bare_sent)
    per_task = divide(push.api_seconds * 1000, push.api_sent)
    rate = divide(push.api_sent, push.api_seconds)
    bare_rate = divide(push.bare_sent, push.bare_seconds)
    share = divide(push.bare_seconds, push.api_seconds)
    return [
        Row("Outbox overhead per action", f"{overhead or 0:.2f} ms "
            f"({bare_rate or 0:,.0f} actions/s; enqueue "
            f"{push.enqueue_seconds * 1e6 / max(push.count, 1):.0f} µs per action)",
            overhead, OUTBOX,
            f"a task through the API stand-in: {per_task or 0:.2f} ms (the outbox is "
            f"{share or 0:.0%} of it)"),
        Row("Tasks through the Open Dental API stand-in",
            f"{rate or 0:,.0f} tasks/s ({per_task or 0:.2f} ms per task; "
            f"{count(push.made)} of {count(push.count)} tasks read back)",
            rate, THROUGHPUT,
            f"the outbox alone, to a no-op target: {bare_rate or 0:,.0f} actions/s"),
    ]


def process_rows(large: Practice, growth: Practice) -> list[Row]:
    rows = []
    plain = None
    if large.sync is not None:
        plain = (f"one plain SELECT of procedurelog: {seconds(large.sync.plain_read_seconds)}, "
                 f"worst stall {large.sync.plain_read_stall.worst_ms:.0f} ms over "
                 f"{count(large.sync.plain_read_stall.updates)} updates")
    for name in CLIENTS:
        run, small = large.client(name), growth.client(name)
        if run is None:
            rows += [Row(f"Peak memory of the sync, {name}", "—", None, MEMORY, "—"),
                     Row(f"Longest PMS statement, {name}", "—", None, STATEMENT, "—"),
                     Row(f"Front desk's worst stall during the sync, {name}", "—", None, STALL,
                         "—")]
            continue
        full = run.full
        smaller = (f"the same sync on {count(growth.patients)} patients: "
                   f"{small.full.peak_rss_mb:.0f} MB" if small else "—")
        rows += [
            Row(f"Peak memory of the sync, {name}", f"{full.peak_rss_mb:.0f} MB",
                full.peak_rss_mb, MEMORY, smaller),
            Row(f"Longest PMS statement, {name}",
                f"{full.longest_statement_ms:.0f} ms ({count(full.statements)} statements)",
                full.longest_statement_ms, STATEMENT, plain or "—"),
            Row(f"Front desk's worst stall during the sync, {name}",
                f"{run.stall.worst_ms:.0f} ms over {count(run.stall.updates)} updates",
                run.stall.worst_ms, STALL, plain or "—"),
        ]
    return rows


P = TypeVar("P")
Figure = Callable[[Practice], float | None]
"""One cost of a practice, None when it was not measured there."""


def of(part: Callable[[Practice], P | None], figure: Callable[[P], float]) -> Figure:
    def get(practice: Practice) -> float | None:
        found = part(practice)
        return None if found is None else figure(found)
    return get


def _sync(practice: Practice) -> SyncFigures | None:
    return practice.sync


def _items(practice: Practice) -> ItemsFigures | None:
    return practice.items


def _queues(practice: Practice) -> QueueFigures | None:
    return practice.queues


def _client(name: str) -> Callable[[Practice], ClientFigures | None]:
    return lambda practice: practice.client(name)


def growth_rows(large: Practice, growth: Practice) -> list[Row]:
    linear_growth = linear(divide(large.patients, growth.patients) or 0)

    def row(measure: str, cost: Figure, against: str, target: Target = linear_growth,
            unit: str = "s") -> Row:
        return growth_row(measure, cost(growth), cost(large), target, against, unit)

    def grew(cost: Figure) -> str:
        small, big = cost(growth), cost(large)
        value = divide(big, small) if small is not None and big is not None else None
        return ratio(value) if value is not None else "—"

    rows = []
    for name in CLIENTS:
        client = _client(name)
        rows.append(row(f"Full sync, {name}", of(client, lambda r: r.full.seconds),
                        f"C-client floor {grew(of(_sync, lambda s: s.c_floor_seconds))}; own "
                        f"floor {grew(of(client, lambda r: r.floor_seconds))}"))
    rows += [
        row("Incremental, nothing changed", of(_sync, lambda s: s.idle.seconds),
            "the first cycle after the full sync " + grew(of(_sync, lambda s: s.quiet.seconds))),
        row("Incremental, 1,000 rows changed", of(_sync, lambda s: s.changed.seconds),
            "procedurelog rows " + grew(of(_sync, lambda s: s.counts["procedurelog"]))),
        row("Full evaluation of the items", of(_items, lambda i: i.evaluation_seconds),
            "the pull " + grew(of(_items, lambda i: i.pull_seconds))),
        row("Incremental reconcile, 1,000 rows changed",
            of(_items, lambda i: i.incremental_pull_seconds + i.reconcile_seconds),
            "patients reconciled " + grew(of(_items, lambda i: i.reconciled_patients))),
        row("Work queues, every format", of(_queues, lambda q: q.seconds),
            "open items " + grew(of(_queues, lambda q: q.items))),
    ]
    rows += [row(f"Peak memory of the sync, {name}",
                 of(_client(name), lambda r: r.full.peak_rss_mb),
                 "rows read " + grew(of(_client(name), lambda r: r.full.rows)), FLAT, unit="MB")
             for name in CLIENTS]
    rows += [row(f"Longest PMS statement, {name}",
                 of(_client(name), lambda r: r.full.longest_statement_ms / 1000),
                 "statements " + grew(of(_client(name), lambda r: r.full.statements)))
             for name in CLIENTS]
    rows += [row(f"Front desk's worst stall during the sync, {name}",
                 of(_client(name), lambda r: r.stall.worst_ms / 1000),
                 "during one plain SELECT "
                 + grew(of(_sync, lambda s: s.plain_read_stall.worst_ms)))
             for name in CLIENTS]
    return rows


def sections(large: Practice, growth: Practice, push: PushFigures | None) -> list[Section]:
    """Every row of the report, grouped as the issue lists them."""
    size = f"`{large.database}`: {count(large.patients)} patients"
    if large.rows is not None:
        size += f", {count(large.rows)} rows per full sync"
    patients = divide(large.patients, growth.patients)
    rows_grew = divide(large.rows or 0, growth.rows or 0)
    return [
        Section("Full sync against bare extraction", full_sync_rows(large),
                f"{size}. Floors: each stream's SQL as one plain SELECT of every row, through "
                "the C client and through each Python client (streamed cursor, the client's "
                "own conversions), measured just before the sync."),
        Section("Incremental cycles", incremental_rows(large),
                "On the ledger the first client's full sync wrote, safety lag "
                f"{sync_bench.SAFETY_LAG} s; 1,000 changed: the fee of 1,000 random "
                "procedurelog rows."),
        Section("Reconcile (coordination items)", reconcile_rows(large),
                "A new ledger: a full pull (driver auto), then every patient's items; then "
                "1,000 procedurelog rows change and an incremental cycle pulls and reconciles."),
        Section("Work queues", queue_rows(large),
                "Built from the items of the reconcile above, as the daemon does after each "
                "cycle: one workbook, one CSV per queue, one HTML page."),
        Section("Push through the outbox", push_rows(push),
                f"{count(push.count) if push else '—'} create-task actions, SQLite ledger, "
                "batch 50, through a real HTTP stand-in for the Open Dental API over Open "
                "Dental's task tables in MariaDB."),
        Section("The sync process and the PMS", process_rows(large, growth),
                "Memory: the sync process's peak resident set (VmHWM). Statement: the "
                "longest single statement the full sync ran on the PMS. Stall: a front-desk "
                "writer updates a random procedurelog row every 10 ms (MyISAM: a read blocks "
                "writes to its table); its slowest update during the full sync."),
        Section(f"Growth: {count(growth.patients)} → {count(large.patients)} patients "
                f"({ratio(patients) if patients else '—'})", growth_rows(large, growth),
                f"`{growth.database}` → `{large.database}`; rows per full sync "
                f"{ratio(rows_grew) if rows_grew else '—'}. Each cost on the large practice "
                "over the same cost on the smaller one, both measured in this run: at most "
                "linear means a ratio at most the patients' ratio."),
    ]


# --- facts about the machine and the run ----------------------------------------------------


def _first_line(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except OSError as error:
        return f"not available ({error.strerror})"
    return (done.stdout.strip().splitlines() or ["not available"])[0]


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return "unknown"
    found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return f"{int(found.group(1)) / 2**20:.1f} GiB" if found else "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _clients() -> str:
    mysqlclient = _version("mysqlclient")
    try:
        import MySQLdb

        mysqlclient += f" (libmariadb {MySQLdb._mysql.get_client_info()})"
    except ImportError:
        pass
    return (f"mysqlclient {mysqlclient}; PyMySQL {_version('PyMySQL')}; "
            f"C client: {_first_line(['mysql', '--version'])}")


def _server_version() -> str:
    with sync_bench.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        found = cursor.fetchone()
        return str(found[0]) if found else "?"


def _engine(database: str) -> str:
    with sync_bench.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                       "AND TABLE_NAME = 'procedurelog'", (database,))
        found = cursor.fetchone()
        return str(found[0]) if found else "?"


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def duration(value: float) -> str:
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


# --- the run --------------------------------------------------------------------------------


def say(line: str) -> None:
    print(f"{datetime.now().strftime('%H:%M:%S')} {line}", flush=True)


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    stderr = getattr(error, "stderr", None)
    if isinstance(stderr, str) and stderr.strip():
        text += " / " + " / ".join(stderr.strip().splitlines()[-3:])
    return text


def attempt(failures: list[tuple[str, str]], step: str, action: Callable[[], T]) -> T | None:
    """Run one step; a failure is recorded for the report and the run goes on."""
    say(step)
    try:
        return action()
    except (Exception, SystemExit) as error:  # sync_bench ends a failed sync with SystemExit
        failures.append((step, describe(error)))
        say(f"FAILED: {step}: {describe(error)}")
        return None


def measure_practice(practice: Practice, work: Path, today: date,
                     failures: list[tuple[str, str]]) -> None:
    database, label = practice.database, practice.label
    practice.sync = attempt(failures, f"{label} practice ({database}): sync benchmark",
                            lambda: sync_bench.measure(database, say))
    ledger = work / f"{label}-items.db"
    practice.items = attempt(failures, f"{label} practice ({database}): items benchmark",
                             lambda: items_bench.measure(database, ledger, today))
    if practice.items is not None:
        practice.queues = attempt(
            failures, f"{label} practice ({database}): queues benchmark",
            lambda: queues_bench.measure(ledger, database, work / f"{label}-queues", today))


def patients_in(database: str) -> int | None:
    try:
        return sync_bench.table_counts(database)["patient"]
    except Exception:  # missing database or tables: the caller says what to do
        return None


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--patients", type=int, default=60_000, help="the large practice")
    parser.add_argument("--growth-patients", type=int, default=15_000,
                        help="the smaller practice the growth is measured from")
    parser.add_argument("--database", default="tc_bench", help="the large practice's database")
    parser.add_argument("--growth-database", default="tc_bench15",
                        help="the smaller practice's database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure both databases as they are; without it both are "
                        "(re)loaded first, their tables dropped")
    parser.add_argument("--engine", default="MyISAM", choices=["MyISAM", "InnoDB"],
                        help="storage engine when loading")
    parser.add_argument("--actions", type=int, default=1000, help="push benchmark's actions")
    parser.add_argument("--today", type=date.fromisoformat, default=items_bench.PRACTICE_TODAY,
                        help="the practices' today (they are built for 2025-06-16)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown report")
    parser.add_argument("--steady-state", type=Path, metavar="JSON",
                        help="add the rows of a `bench/steady_state.py --json JSON` run")
    arguments = parser.parse_args(argv)
    for name in (arguments.database, arguments.growth_database):
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            parser.error(f"not a plain database name: {name!r}")
    if arguments.database == arguments.growth_database:
        parser.error("--database and --growth-database must differ")
    if min(arguments.patients, arguments.growth_patients, arguments.actions) < 1:
        parser.error("--patients, --growth-patients and --actions must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse(argv)
    logs.configure(0)       # warnings only, on stderr: the report is the output
    started_at, started = datetime.now(UTC), time.perf_counter()
    load_before = _load()
    large = Practice("large", arguments.database)
    growth = Practice("growth", arguments.growth_database)
    failures: list[tuple[str, str]] = []
    phases: list[tuple[str, float]] = []
    for practice, wanted in ((large, arguments.patients), (growth, arguments.growth_patients)):
        if arguments.reuse:
            found = patients_in(practice.database)
            if found is None:
                print(f"bench/run: no practice in database {practice.database!r} to reuse; "
                      "run without --reuse to load it", file=sys.stderr)
                return 2
            if found != wanted:
                say(f"{practice.database} holds {found:,} patients, not {wanted:,}: "
                    "the report uses what it holds")
            practice.patients = found
        else:
            say(f"loading {wanted:,} patients into {practice.database}")
            began = time.perf_counter()
            sync_bench.load(practice.database, wanted, arguments.engine)
            practice.built_seconds = time.perf_counter() - began
            practice.patients = wanted
    if not arguments.reuse:
        phases.append(("loading the practices",
                       (large.built_seconds or 0) + (growth.built_seconds or 0)))
    work = Path(tempfile.mkdtemp(prefix="tc-sync-report-"))
    try:
        for practice in (large, growth):
            began = time.perf_counter()
            measure_practice(practice, work, arguments.today, failures)
            phases.append((f"measuring the {practice.label} practice",
                           time.perf_counter() - began))
        began = time.perf_counter()
        push = attempt(failures, "push benchmark",
                       lambda: push_bench.measure(arguments.actions))
        phases.append(("push", time.perf_counter() - began))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    took = time.perf_counter() - started
    report = sections(large, growth, push)
    if arguments.steady_state:
        steady = attempt(failures, f"steady-state figures from {arguments.steady_state}",
                         lambda: steady_report.sections(arguments.steady_state))
        report += steady or [Section(steady_report.TITLE, [])]
    header = Header("tc-sync benchmark report",
                    facts(arguments, large, growth, started_at, took, phases, load_before),
                    notes(list(argv) if argv is not None else sys.argv[1:]), failures)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(render(header, report), encoding="utf-8")
    counts = tally(report)
    say(f"report written to {arguments.out} ({counts['met']} met, {counts['NOT MET']} not met, "
        f"{counts['not measured']} not measured) in {duration(took)}")
    return 1 if failures else 0


def facts(arguments: argparse.Namespace, large: Practice, growth: Practice,
          started_at: datetime, took: float, phases: Sequence[tuple[str, float]],
          load_before: str) -> list[tuple[str, str]]:
    def practice(p: Practice) -> str:
        text = f"`{p.database}`: {count(p.patients)} patients"
        if p.rows is not None:
            text += f", {count(p.rows)} rows per full sync"
        text += f", {_engine(p.database)}; "
        text += (f"loaded in this run ({duration(p.built_seconds)})"
                 if p.built_seconds is not None else "reused (--reuse)")
        return text

    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return [
        ("Date", f"{started_at:%Y-%m-%d %H:%M} UTC"),
        ("Took", f"{duration(took)}: " + ", ".join(f"{name} {duration(value)}"
                                                     for name, value in phases)),
        ("Machine", f"{_cpu_model()}; {cores} cores ({usable} usable); {_memory()} RAM; "
                    f"{platform.system()} {platform.release()}"),
        ("Load average (1, 5, 15 min)", f"{load_before} at the start, {_load()} at the end "
                                        "(others work on this machine too)"),
        ("MariaDB", f"{_server_version()} at {sync_bench.HOST}:{sync_bench.PORT}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Clients", _clients()),
        ("Ledger", f"SQLite {sqlite3.sqlite_version}, files in a temporary folder"),
        ("tc-sync", _first_line(["git", "-C", str(BENCH), "describe", "--always", "--dirty"])
         + " (-dirty: uncommitted changes were measured too)"),
        ("Large practice", practice(large)),
        ("Growth practice", practice(growth)),
    ]


def notes(argv: Sequence[str]) -> list[str]:
    return [
        "Each figure's floor or baseline was measured in this same run, minutes apart on the "
        "same machine; other work on it (see the load average) moves single figures more than "
        "the ratios.",
        "\"(ours)\" marks a target we set; the others are the issue's.",
        "The run writes to the practices: twice 1,000 procedurelog fee updates (the "
        "incremental and reconcile figures) and the front desk's no-op updates. Measuring "
        "them again with --reuse is fine.",
        "Command: `" + " ".join(["bench/run", *argv]) + "`.",
    ]


if __name__ == "__main__":
    sys.exit(main())
