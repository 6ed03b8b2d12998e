"""Benchmark: a group of practices on one PostgreSQL ledger (issue 20).

N synthetic Open Dental practices (SQLite files, `tc_sync.demo.practice`) share one fresh
PostgreSQL ledger; one daemon per practice (`tc-sync run --source ID`, one group configuration)
starts at the same moment; a scripted front desk then changes every practice's treatment for
`--minutes`. Measured: start-up failures (target 0), PostgreSQL connections (target at most 2
per daemon), the longest open transaction (target under 5 s), dead rows VACUUM could not remove
while the daemons ran (target 0), ledger size per practice and its growth per practice per
day, the longest ledger statement the runs recorded, and each practice's freshness at the end;
then an extrapolation to 500 practices.

Usage: python bench/group.py [--practices 8] [--patients 3000] [--minutes 10]
       [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml

from tc_sync.demo.practice import PracticeSpec, write_sqlite

TARGET_PRACTICES = 500
BENCH = "tc-sync-group-bench"
"""The application name of the benchmark's own connections (not counted)."""


@dataclass
class Sample:
    """The worst seen by the sampler while the daemons ran."""

    connections: int = 0
    longest_transaction: float = 0.0
    longest_statement: str = ""
    """The statement the longest transaction was running or had last run (SQL text with
    placeholders: no values, no PHI), and its state then."""
    idle_in_transaction: float = 0.0


@dataclass
class History:
    """What grows with every cycle: run history, and item history."""

    runs: int = 0
    run_bytes: int = 0
    events: int = 0
    event_bytes: int = 0


@dataclass
class Figures:
    """What one run of the benchmark measured."""

    practices: int
    patients: int
    minutes: float
    startup_failures: list[str] = field(default_factory=list)
    first_cycles_seconds: float = 0.0
    phases: dict[str, Sample] = field(default_factory=dict)
    dead_not_removable: int = 0
    size_after_first_sync: int = 0
    size_at_end: int = 0
    history_after_first_sync: History = field(default_factory=History)
    history_at_end: History = field(default_factory=History)
    front_desk_changes: int = 0
    longest_statement_ms: int = 0
    freshness_seconds: dict[str, float] = field(default_factory=dict)


def _practice_ids(count: int) -> list[str]:
    return [f"practice-{number:03d}" for number in range(1, count + 1)]


def _config(folder: Path, url: str, practices: list[str]) -> Path:
    path = folder / "group.yaml"
    path.write_text(yaml.safe_dump({
        "ledger": {"url": url},
        "http": {"enabled": False},
        "queues": {"folder": str(folder / "queues")},
        "reports": {"folder": str(folder / "reports")},
        "sources": {practice: {"kind": "opendental",
                               "schedule": {"interval_seconds": 30},
                               "connection": {"driver": "sqlite",
                                              "path": str(folder / f"{practice}.db")}}
                    for practice in practices}}), encoding="utf-8")
    return path


class Sampler(threading.Thread):
    """Reads pg_stat_activity every 0.2 s: connections and the oldest open transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.phases = {"start": Sample(), "steady": Sample()}
        self.phase = "start"
        """'start' until every practice's first cycles are done, then 'steady'."""
        self.stop = threading.Event()

    def run(self) -> None:
        query = sa.text(
            "SELECT count(*), coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)),"
            " 0), coalesce(max(extract(epoch FROM clock_timestamp() - state_change)) FILTER ("
            "WHERE state LIKE 'idle in transaction%'), 0) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name <> :bench "
            "AND backend_type = 'client backend'")
        oldest = sa.text(
            "SELECT state, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name <> :bench AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL ORDER BY xact_start LIMIT 1")
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not self.stop.wait(0.2):
                count, longest, idle = connection.execute(query, {"bench": BENCH}).one()
                sample = self.phases[self.phase]
                sample.connections = max(sample.connections, int(count))
                if float(longest) > sample.longest_transaction:
                    sample.longest_transaction = float(longest)
                    found = connection.execute(oldest, {"bench": BENCH}).first()
                    sample.longest_statement = f"{found[0]}: {found[1]}" if found else ""
                sample.idle_in_transaction = max(sample.idle_in_transaction, float(idle))


def _front_desk(folder: Path, practices: list[str], until: float, rng: random.Random) -> int:
    """Every few seconds, each practice changes the fee of a few planned procedures."""
    changes = 0
    while time.monotonic() < until:
        for practice in practices:
            connection = sqlite3.connect(folder / f"{practice}.db", timeout=30)
            try:
                keys = [row[0] for row in connection.execute(
                    "SELECT ProcNum FROM procedurelog WHERE ProcStatus = 1 "
                    "ORDER BY random() LIMIT 5")]
                stamp = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
                connection.executemany(
                    "UPDATE procedurelog SET ProcFee = ProcFee + 1, DateTStamp = ? "
                    "WHERE ProcNum = ?", [(stamp, key) for key in keys])
                connection.commit()
                changes += len(keys)
            finally:
                connection.close()
        time.sleep(rng.uniform(3, 6))
    return changes


def _dead_rows_vacuum_kept(engine: sa.Engine) -> int:
    """VACUUM the ledger now (daemons running); the dead rows it had to leave behind."""
    kept = 0
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        notices: list[str] = []
        driver.add_notice_handler(lambda notice: notices.append(str(notice.message_primary)))
        driver.autocommit = True
        with driver.cursor() as cursor:
            cursor.execute("VACUUM (VERBOSE)")
        for notice in notices:
            for line in notice.splitlines():
                if "are dead but not yet removable" in line:
                    kept += int(line.split(" are dead but not yet removable")[0].split()[-1])
    finally:
        raw.close()
    return kept


def _history(engine: sa.Engine) -> History:
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT (SELECT count(*) FROM sync_runs), pg_total_relation_size('sync_runs') + "
            "pg_total_relation_size('sync_run_streams'), (SELECT count(*) FROM item_events), "
            "pg_total_relation_size('item_events')")).one()
    return History(*(int(value) for value in row))


def _ledger_size(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(
            sa.text("SELECT pg_database_size(current_database())")).scalar_one())


def _synced(engine: sa.Engine, practices: list[str]) -> bool:
    with engine.connect() as connection:
        try:
            done = connection.execute(sa.text(
                "SELECT count(DISTINCT source_id) FROM sync_runs WHERE outcome = 'ok'")).scalar()
        except sa.exc.ProgrammingError:
            return False
    return done == len(practices)


def measure(practices: int, patients: int, minutes: float, admin_url: str) -> Figures:
    """Build the group, run it, and return the figures."""
    figures = Figures(practices, patients, minutes)
    ids = _practice_ids(practices)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    database = f"tc_group_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {database}")
    url = admin.url.set(database=database).render_as_string(hide_password=False)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT",
                              connect_args={"application_name": BENCH})
    daemons: list[subprocess.Popen[str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tc-group-", ignore_cleanup_errors=True) as temp:
            folder = Path(temp)
            for number, practice in enumerate(ids):
                write_sqlite(folder / f"{practice}.db", PracticeSpec(patients=patients,
                                                                     seed=number + 1))
            config = _config(folder, url, ids)
            sampler = Sampler(engine)
            sampler.start()
            started = time.monotonic()
            daemons = [subprocess.Popen(
                [sys.executable, "-m", "tc_sync", "--config", str(config), "run", "--source",
                 practice], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True) for practice in ids]
            while not _synced(engine, ids) and time.monotonic() - started < 1800:
                if any(daemon.poll() is not None for daemon in daemons):
                    break
                time.sleep(0.5)
            figures.first_cycles_seconds = time.monotonic() - started
            time.sleep(35)      # every practice's first reconcile and second cycle done
            sampler.phase = "steady"
            figures.size_after_first_sync = _ledger_size(engine)
            figures.history_after_first_sync = _history(engine)
            desk_started = time.monotonic()
            figures.front_desk_changes = _front_desk(
                folder, ids, desk_started + minutes * 60, random.Random(20))
            time.sleep(35)      # one more cycle picks the last changes up
            figures.dead_not_removable = _dead_rows_vacuum_kept(engine)
            figures.size_at_end = _ledger_size(engine)
            figures.history_at_end = _history(engine)
            _finish(engine, figures)
            sampler.stop.set()
            sampler.join()
            figures.phases = sampler.phases
            for daemon, practice in zip(daemons, ids, strict=True):
                if daemon.poll() is not None:
                    figures.startup_failures.append(
                        f"{practice}: exit {daemon.returncode}: "
                        f"{(daemon.stderr.read() if daemon.stderr else '').strip()[-300:]}")
            _stop(daemons)      # before their folder goes
    finally:
        _stop(daemons)
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()
    return figures


def _stop(daemons: list[subprocess.Popen[str]]) -> None:
    for daemon in daemons:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
    for daemon in daemons:
        daemon.communicate(timeout=180)


def _finish(engine: sa.Engine, figures: Figures) -> None:
    with engine.connect() as connection:
        figures.longest_statement_ms = int(connection.execute(sa.text(
            "SELECT coalesce(max(longest_statement_ms), 0) FROM sync_runs")).scalar_one())
        rows = connection.execute(sa.text(
            "SELECT source_id, extract(epoch FROM (now() AT TIME ZONE 'UTC') - max(finished_at))"
            " FROM sync_runs WHERE outcome = 'ok' GROUP BY source_id ORDER BY source_id"))
        figures.freshness_seconds = {row[0]: float(row[1]) for row in rows}


def report(figures: Figures) -> list[str]:
    """The figures as lines, each beside its target, and the extrapolation to 500."""
    n = figures.practices
    seconds = figures.minutes * 60 + 35
    day = 86_400 / seconds / n          # a measured total -> per practice per day
    growth = max(figures.size_at_end - figures.size_after_first_sync, 0) * day
    per_practice = figures.size_after_first_sync / n
    before, after = figures.history_after_first_sync, figures.history_at_end
    runs = after.runs - before.runs
    bytes_per_run = (after.run_bytes - before.run_bytes) / runs if runs else 0.0
    events_per_day = (after.events - before.events) * day
    event_bytes_per_day = (after.event_bytes - before.event_bytes) * day
    stalest = max(figures.freshness_seconds.values(), default=float("nan"))
    lines = [
        f"{n} practices of {figures.patients:,} patients, 30-s cycles, front desk for "
        f"{figures.minutes} min ({figures.front_desk_changes * day / 86_400 * 60:.0f} procedure "
        "changes per practice per minute)",
        f"start-up failures: {len(figures.startup_failures)} (target 0)",
        *[f"  {failure}" for failure in figures.startup_failures],
        f"all first cycles done in {figures.first_cycles_seconds:.0f} s",
    ]
    for phase, sample in figures.phases.items():
        lines.append(
            f"{phase}: PostgreSQL connections at peak {sample.connections} for {n} daemons "
            f"({sample.connections / n:.2f} per daemon, target at most 2); longest open "
            f"transaction {sample.longest_transaction:.2f} s (target under 5 s); longest idle "
            f"in transaction {sample.idle_in_transaction:.2f} s\n"
            f"  the longest transaction was at: {sample.longest_statement or '-'}")
    most = max((sample.connections for sample in figures.phases.values()), default=0)
    lines += [
        f"dead rows VACUUM could not remove while the daemons ran: "
        f"{figures.dead_not_removable} (target 0)",
        f"ledger: {per_practice / 1e6:.1f} MB per practice after the first sync; growth "
        f"{growth / 1e6:.1f} MB per practice per day at this front desk",
        f"run history: {bytes_per_run:,.0f} bytes per run with its streams: "
        f"{bytes_per_run * 2880 / 1e6:.1f} MB per practice per day at 30-s cycles "
        f"({bytes_per_run * 288 / 1e6:.2f} MB at the default 300 s)",
        f"item history: {events_per_day:,.0f} events, {event_bytes_per_day / 1e6:.1f} MB per "
        "practice per day at this front desk",
        f"longest ledger statement recorded by a run: {figures.longest_statement_ms} ms",
        f"freshness at the end: the stalest practice last synced {stalest:.0f} s ago",
        f"at {TARGET_PRACTICES} practices: {TARGET_PRACTICES * 2} connections at most "
        f"({TARGET_PRACTICES * most / n:.0f} at this peak), "
        f"{TARGET_PRACTICES * per_practice / 1e9:.1f} GB of ledger after the first syncs, "
        f"run history {TARGET_PRACTICES * bytes_per_run * 2880 / 1e9:.2f} GB a day at 30-s "
        "cycles before retention",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a daemon failed to start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--practices", type=int, default=8)
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    arguments = parser.parse_args(argv)
    figures = measure(arguments.practices, arguments.patients, arguments.minutes, arguments.pg)
    print("\n".join(report(figures)))
    return 1 if figures.startup_failures else 0


if __name__ == "__main__":
    sys.exit(main())
