"""A group's agents reach their shared PostgreSQL ledger through PgBouncer in transaction pooling
mode, as in production: every agent's client connections take turns on ONE server connection,
so any session state tc-sync relied on (a prepared statement, a session lock) would be lost
between its transactions.

The ledger URL is written as docs/INSTALL.md says (`?prepare_threshold=none`); what a group
sees through the pooler is checked against a SQLite ledger synced from the same practices.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.cli import main
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.clock import practice_today
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import LedgerError, head_revision, ledger_write_problem, open_ledger
from tc_sync.ledger.schema import items, replica, source_leases, sync_runs
from tc_sync.pull.run import sync_source
from tests.conftest import unavailable
from tests.observed import free_port
from tests.pgbouncer import PgBouncer, pgbouncer_binary, start_pgbouncer
from tests.test_queues import read_csv

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

PRACTICES = {"downtown": PracticeSpec(patients=150, seed=1),
             "uptown": PracticeSpec(patients=120, seed=2)}
LEASE_SECONDS = 10


@pytest.fixture(scope="module")
def bouncer(postgres_admin: sa.Engine) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode with one server connection per database."""
    binary = pgbouncer_binary()
    if binary is None:
        unavailable("no pgbouncer program (Debian: apt-get install pgbouncer)")
    running = start_pgbouncer(str(binary), postgres_admin.url, pool_size=1)
    yield running
    running.stop()


def _new_database(admin: sa.Engine) -> str:
    name = f"tc_test_pgb_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    return name


def _drop_database(admin: sa.Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _config(folder: Path, ledger_url: str) -> dict[str, Any]:
    return {"ledger": {"url": ledger_url, "lease_seconds": LEASE_SECONDS},
            "sources": {name: {"kind": "opendental", "schedule": {"interval_seconds": 300},
                               "connection": {"driver": "sqlite",
                                              "path": str(folder / f"{name}.db")}}
                        for name in PRACTICES}}


def _tc_sync(config: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "tc_sync", "--config", str(config), *arguments]


def _once(config: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """A tc-sync command run to its end, as an admin would from the group's folder."""
    return subprocess.run(_tc_sync(config, *arguments), check=False, cwd=config.parent,
                          capture_output=True, text=True, timeout=180)


def _wait(what: str, ready: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_eight_agents_starting_at_once_migrate_a_new_ledger_through_pgbouncer(
        bouncer, postgres_admin, tmp_path):
    database = _new_database(postgres_admin)
    try:
        config = tmp_path / "group.yaml"
        config.write_text(yaml.safe_dump({"ledger": {"url": bouncer.url(database)}}), "utf-8")
        processes = [subprocess.Popen(_tc_sync(config, "status"), cwd=tmp_path, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for _ in range(8)]
        errors = [process.communicate(timeout=180)[1] for process in processes]

        assert [process.returncode for process in processes] == [0] * 8, errors
        assert not [error for error in errors if "Traceback" in error]
        engine = open_ledger(bouncer.url(database))
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")
                                      ).all() == [(head_revision(),)]
        engine.dispose()
    finally:
        _drop_database(postgres_admin, database)


def test_without_prepare_threshold_none_two_agents_on_one_server_connection_break(
        bouncer, postgres_admin, tmp_path):
    """Why docs/INSTALL.md asks for `?prepare_threshold=none`: psycopg names the statements it
    prepares per connection, and behind the pooler another agent's name is already there."""
    for name, spec in PRACTICES.items():
        write_sqlite(tmp_path / f"{name}.db", spec)
    database = _new_database(postgres_admin)
    url = bouncer.url(database, prepared_off=False)
    settings = settings_from_mapping(_config(tmp_path, url), label="group.yaml")
    engines = [open_ledger(url, 2) for _ in PRACTICES]       # one per practice's agent
    failures: list[str] = []
    try:
        for engine, (source_id, source) in zip(engines, settings.sources.items(), strict=True):
            try:
                run = sync_source(engine, source_id, source, settings.sync, full=True)
                failures += [] if run.outcome == "ok" else [f"{source_id}: {run.outcome}"]
            except sa.exc.DBAPIError as error:   # as the daemon's log says it: what to do
                failures.append(f"{source_id}: {ledger_write_problem(error) or error.orig}")
            except LedgerError as error:
                failures.append(f"{source_id}: {error}")
    finally:
        for engine in engines:
            engine.dispose()
        _drop_database(postgres_admin, database)

    assert failures, "both syncs passed: is PgBouncer sharing its server connection?"
    assert any("end ledger.url with ?prepare_threshold=none" in failure
               for failure in failures), failures


# ---- two practices' agents, side by side, through the pooler -----------------------------------

@dataclass
class Group:
    """Two agents (`tc-sync run --source X`) syncing their practices into one ledger."""

    folder: Path
    config: Path
    settings: Settings
    ledger: sa.Engine
    """The test's own look at the ledger: direct to PostgreSQL, autocommit."""
    bouncer: PgBouncer
    agents: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    """Each practice's agent now; `started` holds every agent ever started."""
    started: list[subprocess.Popen[str]] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    pooled: dict[str, int] = field(default_factory=dict)
    """The most client and server connections PgBouncer had for the ledger at once."""

    def start(self, source_id: str) -> subprocess.Popen[str]:
        environment = {**os.environ, "TC_SYNC_HTTP__PORT": str(self.ports[source_id])}
        agent = subprocess.Popen(_tc_sync(self.config, "run", "--source", source_id),
                                 cwd=self.folder, env=environment, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.agents[source_id] = agent
        self.started.append(agent)
        return agent

    def log(self, source_id: str) -> str:
        path = self.folder / "logs" / f"tc-sync-{source_id}.log"
        return path.read_text("utf-8") if path.exists() else ""

    def runs(self, source_id: str) -> list[str]:
        with self.ledger.connect() as connection:
            try:
                return list(connection.execute(
                    sa.select(sync_runs.c.outcome).where(sync_runs.c.source_id == source_id)
                    .order_by(sync_runs.c.run_id)).scalars())
            except sa.exc.ProgrammingError:      # no tables yet
                return []

    def holders(self) -> dict[str, str]:
        with self.ledger.connect() as connection:
            return {row.source_id: row.holder for row in connection.execute(
                sa.select(source_leases.c.source_id, source_leases.c.holder))}

    def watch_pool(self) -> None:
        pools = [pool for pool in self.bouncer.show("POOLS")
                 if pool["database"] == self.ledger.url.database]
        for pool in pools:
            clients = pool["cl_active"] + pool["cl_waiting"]
            servers = pool["sv_active"] + pool["sv_idle"] + pool["sv_used"]
            self.pooled["clients"] = max(self.pooled.get("clients", 0), clients)
            self.pooled["servers"] = max(self.pooled.get("servers", 0), servers)

    def stop(self) -> None:
        for agent in self.started:
            if agent.poll() is None:
                agent.kill()
            agent.communicate(timeout=30)      # closes its pipes


@pytest.fixture(scope="module")
def group(bouncer: PgBouncer, postgres_admin: sa.Engine,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Group]:
    """Both agents started at the same moment on a new ledger, until each practice's first
    cycle (sync, follow-ups, work queues) is done."""
    folder = tmp_path_factory.mktemp("pgbouncer-group")
    for name, spec in PRACTICES.items():
        write_sqlite(folder / f"{name}.db", spec)
    database = _new_database(postgres_admin)
    data = _config(folder, bouncer.url(database))
    config = folder / "group.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    ledger = sa.create_engine(postgres_admin.url.set(database=database),
                              isolation_level="AUTOCOMMIT", pool_size=1)
    running = Group(folder, config, settings_from_mapping(data, label=str(config)), ledger,
                    bouncer, ports={name: free_port() for name in PRACTICES})
    try:
        for name in PRACTICES:
            running.start(name)

        def first_cycles_done() -> bool:
            running.watch_pool()
            for name, agent in running.agents.items():
                assert agent.poll() is None, agent.communicate()
                assert set(running.runs(name)) <= {"running", "ok"}, running.log(name)[-3000:]
            return all(running.runs(name) == ["ok"] and '"event": "queues_built"' in
                       running.log(name) for name in PRACTICES)

        _wait("both practices' first cycles", first_cycles_done)
        yield running
    finally:
        running.stop()
        ledger.dispose()
        _drop_database(postgres_admin, database)


def _truth(folder: Path, settings: Settings) -> dict[str, Any]:
    """What a SQLite ledger synced from the same practice files holds."""
    data = settings.model_dump(mode="json", exclude_unset=True)
    reference = folder / f"reference-{uuid.uuid4().hex[:6]}.db"
    data["ledger"] = {"url": f"sqlite:///{reference}"}
    local = settings_from_mapping(data, label="reference.yaml")
    engine = open_ledger(local.ledger.url)
    try:
        for source_id, source in local.sources.items():
            run = sync_source(engine, source_id, source, local.sync, full=True)
            reconcile_source(engine, source_id, load_mappings(), practice_today(local),
                             complete_run=True, run_id=run.run_id)
        return _contents(engine)
    finally:
        engine.dispose()
        reference.unlink()


def _contents(engine: sa.Engine) -> dict[str, Any]:
    """Per practice: each replica table's live rows, and the open items with their queue."""
    found: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in replica.values():
            for source_id, count in connection.execute(
                    sa.select(table.c.source_id, sa.func.count()).where(
                        table.c.deleted_at.is_(None)).group_by(table.c.source_id)):
                found[f"{source_id} {table.name}"] = count
        for row in connection.execute(sa.select(items.c.source_id, items.c.item_key,
                                                items.c.queue).where(items.c.status == "open")):
            found.setdefault(f"{row.source_id} open items", {})[row.item_key] = row.queue
    return found


def test_two_practices_synced_at_once_through_pgbouncer_match_a_ledger_synced_directly(group):
    held = group.holders()
    truth = _truth(group.folder, group.settings)
    through_pooler = _contents(group.ledger)

    assert through_pooler == truth
    assert all(len(through_pooler[f"{name} open items"]) > 100 for name in PRACTICES)
    assert sorted(held) == sorted(PRACTICES)
    assert held["downtown"].split(":")[1] == str(group.agents["downtown"].pid)
    assert held["uptown"].split(":")[1] == str(group.agents["uptown"].pid)
    assert group.pooled["clients"] >= 2 and group.pooled["servers"] == 1
    pools = {pool["database"]: pool for pool in group.bouncer.show("POOLS")}
    assert pools[group.ledger.url.database]["pool_mode"] == "transaction"
    for name in PRACTICES:
        assert "prepared statement" not in group.log(name)
        assert '"level": "error"' not in group.log(name)
    assert "prepared statement" not in group.bouncer.log()


def test_the_group_page_and_the_group_queues_read_every_practice_through_pgbouncer(group):
    with urlopen(f"http://127.0.0.1:{group.ports['uptown']}/group.json", timeout=30) as answer:
        page = json.loads(answer.read())
    built = _once(group.config, "queues", "build", "--group")
    with group.ledger.connect() as connection:
        open_per_practice = dict(connection.execute(
            sa.select(items.c.source_id, sa.func.count()).where(items.c.status == "open")
            .group_by(items.c.source_id)).all())

    practices = {practice["id"]: practice for practice in page["practices"]}
    assert sorted(practices) == sorted(PRACTICES)
    for name, practice in practices.items():
        assert practice["colour"] == "green", practice["reasons"]
        assert practice["open_items"] == open_per_practice[name]
        assert practice["agent"]["holder"].split(":")[1] == str(group.agents[name].pid)
    assert built.returncode == 0, built.stderr
    totals = {row["Practice"]: row for row in read_csv(
        group.folder / "queues" / "All-practices" / "practices.csv")
        if row["Queue"] == "All queues"}
    for name in PRACTICES:
        assert int(totals[name]["Open items"]) == open_per_practice[name]


def _complete_planned_treatment(practice: Path, patient: int, day: date) -> None:
    """The front desk marks the patient's planned procedures complete (Open Dental: TP -> C)."""
    with sqlite3.connect(practice) as connection:
        connection.execute(
            "UPDATE procedurelog SET ProcStatus = 2, ProcDate = ?, DateEntryC = ?, "
            "DateComplete = ? WHERE PatNum = ? AND ProcStatus = 1", (day.isoformat(),) * 3 + (
                patient,))
    connection.close()


def _item(group: Group, key: str) -> Any:
    with group.ledger.connect() as connection:
        return connection.execute(sa.select(items.c.status, items.c.resolution).where(
            items.c.item_key == key)).one()


def test_leases_are_renewed_and_handed_over_through_pgbouncer_and_nothing_is_lost(group):
    def renewed() -> dict[str, Any]:
        with group.ledger.connect() as connection:
            return dict(connection.execute(sa.select(source_leases.c.source_id,
                                                     source_leases.c.renewed_at)).all())

    before = renewed()
    _wait("a lease renewal", lambda: all(
        renewed()[name] > before[name] for name in PRACTICES), timeout=LEASE_SECONDS * 3)
    second = _once(group.config, "run", "--source", "downtown")
    assert second.returncode == 1
    assert "is syncing source 'downtown' into this ledger" in second.stderr

    killed = group.agents["downtown"]
    os.kill(killed.pid, signal.SIGKILL)           # its server lost power: the lease stays
    killed.communicate(timeout=30)
    with group.ledger.begin() as connection:     # as if it had run on the practice's server
        connection.execute(source_leases.update().where(
            source_leases.c.source_id == "downtown").values(holder=sa.func.concat(
                "practice-server:", sa.func.split_part(source_leases.c.holder, ":", 2), ":",
                sa.func.split_part(source_leases.c.holder, ":", 3))))
    key = next(key for key in _contents(group.ledger)["downtown open items"]
               if key.startswith("unscheduled_treatment:downtown:"))
    _complete_planned_treatment(group.folder / "downtown.db", int(key.rsplit(":", 1)[1]),
                                practice_today(group.settings))
    too_soon = _once(group.config, "run", "--source", "downtown")
    assert too_soon.returncode == 1 and "lease until" in too_soon.stderr

    time.sleep(LEASE_SECONDS)
    successor = group.start("downtown")
    _wait("the successor's lease", lambda: group.holders().get("downtown", "").split(":")[1:2]
          == [str(successor.pid)], timeout=60)
    _wait("the successor's first cycle", lambda: _item(group, key).status != "open")

    assert _item(group, key).resolution == "completed"
    assert group.runs("downtown") == ["ok", "ok"]
    assert _contents(group.ledger) == _truth(group.folder, group.settings)
    for name in PRACTICES:
        agent = group.agents[name]
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=60)
        assert agent.returncode == 0
    assert group.holders() == {}


def test_a_misspelt_prepare_threshold_is_refused_with_one_sentence(tmp_path, capsys):
    config = tmp_path / "group.yaml"
    config.write_text(yaml.safe_dump({"ledger": {
        "url": "postgresql+psycopg://tc_sync@ledger-host/tc_sync?prepare_threshold=never"}}),
        encoding="utf-8")

    assert main(["--config", str(config), "status"]) == 1
    assert capsys.readouterr().err == (
        "tc-sync: ledger.url: prepare_threshold must be a number or 'none' (never prepare "
        "statements, for PgBouncer in transaction mode), not 'never'\n")
