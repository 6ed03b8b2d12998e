"""A practice site for the fault scenarios: an Open Dental-shaped MariaDB database, a `tc-sync
run` daemon started as a child process on a SQLite ledger, and ways to look at what it did.

Everything is real: the daemon is the installed command, the PMS is MariaDB (reached directly
or through tests/tcp_proxy.py), the ledger is read with sqlite3 the way another process would.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql
import yaml

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import cycle_source
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tests.conftest import MysqlServer
from tests.observed import free_port

PATIENTS = 100
"""Small on purpose: about 7,000 PMS rows and 170 open items, a cycle in under a second."""
INTERVAL = 30
"""The daemon's cycle interval: the shortest the configuration allows."""


def env_seconds(name: str, default: float) -> float:
    """A duration a scenario takes from the environment (to run it longer), else `default`."""
    value = os.environ.get(name)
    return float(value) if value else default


def today() -> date:
    """The practice's today: the sites run in UTC."""
    return datetime.now(UTC).date()


def wait_for(what: str, ready: Callable[[], bool], timeout: float, poll: float = 0.2) -> float:
    """Wait until `ready()`; returns the seconds it took, raises AssertionError on timeout."""
    started = time.monotonic()
    while True:
        if ready():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


@dataclass
class Practice:
    """The PMS: one MariaDB database loaded with the synthetic practice."""

    server: MysqlServer
    database: str

    def load(self, patients: int = PATIENTS) -> None:
        with self.server.connect(self.database) as connection:
            write_mysql(connection, PracticeSpec(patients=patients, today=today()))

    def execute(self, sql: str, *params: object) -> int:
        """Run one statement as the front desk would (Open Dental's sql_mode); rows changed."""
        with self.server.connect(self.database) as connection, connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")
            return int(cursor.execute(sql, params))

    def schedule(self, patient_id: int, days_ahead: int = 10) -> None:
        """Book the patient an appointment: their unscheduled treatment is now scheduled."""
        when = f"{today() + timedelta(days=days_ahead)} 09:00:00"
        self.execute("INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
                     "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient_id, when)

    def receive_claim(self, claim_id: int) -> None:
        """The carrier's payment is entered: the claim is received."""
        changed = self.execute("UPDATE claim SET ClaimStatus = 'R', DateReceived = %s "
                               "WHERE ClaimNum = %s", str(today()), claim_id)
        assert changed == 1

    def waiting_statements(self) -> int:
        """Statements on the server, in this database, waiting for a table lock."""
        with self.server.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s "
                           "AND STATE LIKE 'Waiting for table%%'", (self.database,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def connection(self) -> pymysql.connections.Connection:
        return self.server.connect(self.database)


def settings_for(practice: Practice, ledger_url: str, port: int | None = None,
                 **connection: Any) -> Settings:
    """Settings for an in-process cycle reading `practice` (directly, or at `port`)."""
    return settings_from_mapping({
        "timezone": "UTC",
        "ledger": {"url": ledger_url},
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": practice.server.host, "port": port or practice.server.port,
            "user": practice.server.user, "password": practice.server.password or None,
            "database": practice.database, **connection}}}})


_BOOKKEEPING = {"first_seen", "last_changed", "deleted_at", "opened_at", "resolved_at",
                "updated_at", "planned_at", "at", "event_id", "run_id"}
"""Ledger columns that say when tc-sync wrote something, not what the practice holds."""


def ledger_contents(ledger: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every replica table, the items and their events, without the ledger's own times: two
    ledgers of the same practice must be equal in these."""
    tables = [table for table in replica.values()] + [items, item_events]
    contents: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        columns = [c.name for c in table.columns if c.name not in _BOOKKEEPING]
        contents[table.name] = sorted(read(ledger, f"SELECT {', '.join(columns)} "
                                                  f"FROM {table.name}"), key=repr)
    return contents


def reference_open_items(practice: Practice, folder: Path) -> set[str]:
    """What a clean, undisturbed tc-sync says is owed now: one cycle on a new ledger."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = settings_for(practice, f"sqlite:///{folder / 'reference.db'}")
    engine = open_ledger(settings.ledger.url)
    try:
        result = cycle_source(engine, settings, load_mappings(None), "main")
        assert result.run.outcome == "ok", result.run.error
    finally:
        engine.dispose()
    return {key for (key,) in read(folder / "reference.db",
                                   "SELECT item_key FROM items WHERE status = 'open'")}


def read(ledger: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Query a SQLite ledger the way another process would, without holding it open."""
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


@dataclass
class Run:
    run_id: int
    outcome: str
    error_class: str | None
    error_detail: str | None
    finished_at: str | None


@dataclass
class Site:
    """One practice's tc-sync installation: configuration, ledger, logs, the daemon."""

    home: Path
    """The daemon's output files and configuration."""
    data: Path
    """Where the ledger, its logs and the queue files live (the data disk)."""
    host: str
    port: int
    practice: Practice
    extra: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def ledger(self) -> Path:
        return self.data / "ledger.db"

    @property
    def config(self) -> Path:
        return self.home / "tc-sync.yaml"

    @property
    def stderr_file(self) -> Path:
        return self.home / "daemon.err"

    def write_config(self) -> None:
        sweep = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
        server = self.practice.server
        data: dict[str, Any] = {
            "timezone": "UTC",
            "ledger": {"url": f"sqlite:///{self.ledger}"},
            "health": {"amber_after_minutes": 1, "red_after_minutes": 2},
            "http": {"port": self.http_port},
            "queues": {"folder": str(self.data / "queues")},
            "sources": {"main": {
                "kind": "opendental",
                "connection": {"host": self.host, "port": self.port, "user": server.user,
                               "password": server.password or None,
                               "database": self.practice.database, **self.connection},
                # The practice's changes write no audit entry (securitylog), so no hint names
                # them: every scan walks every table, as for changes Open Dental does not log.
                "schedule": {"interval_seconds": INTERVAL, "full_sweep_at": sweep,
                             "hinted_scan_seconds": 0}}},
        }
        for key, value in self.extra.items():
            data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
        self.home.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.config.write_text(yaml.safe_dump(data), encoding="utf-8")

    # The daemon ------------------------------------------------------------------------------

    def start(self) -> subprocess.Popen[bytes]:
        self.write_config()
        with (self.home / "daemon.out").open("ab") as out, self.stderr_file.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tc_sync", "--config", str(self.config), "run"],
                stdout=out, stderr=err)
        return self.process

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM, as systemd stops the service; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise AssertionError("the daemon did not stop within 90 s of SIGTERM") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stderr(self) -> str:
        return self.stderr_file.read_text(encoding="utf-8", errors="replace") if (
            self.stderr_file.exists()) else ""

    # What it did -----------------------------------------------------------------------------

    def runs(self) -> list[Run]:
        if not self.ledger.exists():
            return []
        try:
            rows = read(self.ledger, "SELECT run_id, outcome, error_class, error_detail, "
                                     "finished_at FROM sync_runs ORDER BY run_id")
        except sqlite3.OperationalError:             # tables not made yet
            return []
        return [Run(*row) for row in rows]

    def finished_runs(self) -> list[Run]:
        return [run for run in self.runs() if run.outcome != "running"]

    def first_run(self, timeout: float = 90) -> Run:
        """The daemon's first sync, complete with its reconcile (the scenario's starting
        point: raises if there is none)."""
        run = self.next_run(0, timeout)
        assert run is not None, f"the daemon did not sync at start:\n{self.stderr()[-3000:]}"
        return run

    def next_run(self, after: int, timeout: float) -> Run | None:
        """The first run with id above `after` that ended ok, once its whole cycle (reconcile,
        queues) is done; None if there is none within `timeout` or the daemon exited."""
        found: list[Run] = []

        def ready() -> bool:
            found[:] = [run for run in self.finished_runs()
                        if run.run_id > after and run.outcome == "ok"]
            return bool(found) or not self.alive()

        try:
            wait_for(f"a run after {after} ending ok", ready, timeout)
            if not found:
                return None
            run = found[0]
            wait_for(f"the cycle of run {run.run_id} to finish (reconcile, queues)",
                     lambda: self.cycle_finished_since(run.finished_at or ""), 60)
        except AssertionError:
            return None
        return run

    def cycle_finished_since(self, moment: str) -> bool:
        """Whether the daemon has logged a cycle job as finished (`job_finished`: after the
        reconcile and the queues) at or after `moment` (the ledger's UTC time)."""
        since = moment.replace(" ", "T")
        return any(event.get("event") == "job_finished" and event.get("job") == "cycle"
                   and str(event.get("timestamp", "")).rstrip("Z") >= since
                   for event in self.log_events())

    def items(self) -> dict[str, tuple[str, str | None]]:
        """Every item: key -> (status, resolution)."""
        return {key: (status, resolution) for key, status, resolution in read(
            self.ledger, "SELECT item_key, status, resolution FROM items")}

    def open_items(self) -> set[str]:
        return {key for key, (status, _) in self.items().items() if status == "open"}

    def healthz(self) -> tuple[int, dict[str, Any]]:
        """The daemon's own /healthz answer: status and body."""
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    def colour(self) -> str | None:
        """The source's colour as /healthz tells it (None when the daemon does not answer)."""
        try:
            _, body = self.healthz()
        except OSError:
            return None
        colours = [source["colour"] for source in body.get("sources", [])]
        return colours[0] if colours else None

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for path in sorted((self.data / "logs").glob("tc-sync.log*")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    events.append({"event": "<not json>", "line": line})
        return events

    def integrity(self) -> list[tuple[Any, ...]]:
        return read(self.ledger, "PRAGMA integrity_check")
