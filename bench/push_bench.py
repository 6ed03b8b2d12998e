"""Benchmark: pushing 1,000 Open Dental tasks through the outbox.

Measures, with a SQLite ledger (or --ledger-url for PostgreSQL):
  * enqueueing 1,000 create-task actions in one transaction (what reconcile adds per item);
  * the ledger's own cost per action: claim, lease, record the outcome, against a target that
    does nothing (so only the outbox is measured);
  * throughput through the Open Dental API stand-in (tests/od_api_standin.py: a real HTTP
    server over Open Dental's task tables in MariaDB), every task read back and counted.

`measure` returns these figures as data (bench/report.py reports them); `print_figures`
prints them.

Usage: python bench/push_bench.py [--actions 1000] [--ledger-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync_bench import HOST, PASSWORD, PORT, USER, connect

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import outbox
from tc_sync.push.dispatcher import Dispatcher
from tc_sync.push.outbox import Action, ActionKind, enqueue
from tests.od_api_standin import StandIn, create_task_tables, serve

TASK_LIST = 31


class NoTarget:
    """A task target that returns at once: what is left is the outbox's own cost."""

    name = "od-api"

    def create_task(self, action: Action) -> str:
        return str(action.action_id)

    def find_task(self, action: Action) -> str | None:
        return None

    def close_task(self, action: Action, task_id: str, create_payload: dict[str, Any]) -> None:
        return None


def settings_for(ledger_url: str, base_url: str, database: str) -> Settings:
    return settings_from_mapping({
        "ledger": {"url": ledger_url},
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": HOST, "port": PORT, "user": USER, "database": database}}},
        "push": {"batch_size": 50, "targets": {"od-api": {
            "kind": "opendental_api", "source": "main", "base_url": base_url,
            "developer_key": "dev-key", "customer_key": "cust-key"}}},
    })


def fill(engine: sa.Engine, count: int, run: str) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        for number in range(1, count + 1):
            enqueue(connection, key=f"od-api:create_task:unscheduled_treatment:main:{number}:"
                    f"{run}", source_id="main", item_key=f"unscheduled_treatment:main:{number}",
                    target="od-api", action=ActionKind.CREATE_TASK,
                    payload={"patient_id": number, "kind": "unscheduled_treatment",
                             "task_list": TASK_LIST, "creator_user": 1, "priority": None,
                             "text": "Call to schedule: D2740 D2950 #3 #14, $2,450; benefits "
                                     "renew Jan 1"})
    return time.perf_counter() - started


def drain(dispatcher: Dispatcher) -> tuple[float, int]:
    started, sent = time.perf_counter(), 0
    while (totals := dispatcher.run_once()).claimed:
        sent += totals.sent
    return time.perf_counter() - started, sent


@dataclass
class PushFigures:
    backend: str
    """The ledger's database: sqlite or postgresql."""
    count: int
    enqueue_seconds: float
    """Enqueueing every action in one transaction."""
    bare_seconds: float
    """Draining them to a target that does nothing: the outbox's own cost."""
    bare_sent: int
    api_seconds: float
    """Draining as many through the Open Dental API stand-in."""
    api_sent: int
    made: int
    """Tasks the stand-in holds afterwards, read back from its tables."""


def measure(count: int = 1000, ledger_url: str | None = None) -> PushFigures:
    """Enqueue and drain `count` create-task actions, to no target and through the API."""
    work = Path(tempfile.mkdtemp(prefix="tc-sync-push-bench-"))
    database = f"tc_bench_push_{uuid.uuid4().hex[:8]}"
    with connect(None) as server, server.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    try:
        with connect(database) as connection:
            create_task_tables(connection)
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO tasklist (TaskListNum, Descript, Parent, FromNum, "
                               "GlobalTaskFilterType, TaskListStatus) VALUES "
                               f"({TASK_LIST}, 'TC', 0, 0, 0, 0)")
        ledger_url = ledger_url or f"sqlite:///{work / 'ledger.db'}"
        engine = open_ledger(ledger_url)
        state = StandIn(HOST, PORT, USER, PASSWORD, database)
        server = serve(state)
        running = next(server)
        try:
            settings = settings_for(ledger_url, running.base_url, database)
            enqueue_seconds = fill(engine, count, "bare")
            with Dispatcher(engine, settings, targets={"od-api": NoTarget()}) as bare:
                bare_seconds, bare_sent = drain(bare)
            with engine.begin() as connection:
                connection.execute(outbox.delete())
            fill(engine, count, "api")
            with Dispatcher(engine, settings) as dispatcher:
                api_seconds, api_sent = drain(dispatcher)
            made = len(state.tasks())
        finally:
            server.close()
        backend = engine.dialect.name
        engine.dispose()
    finally:
        with connect(None) as server, server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        shutil.rmtree(work, ignore_errors=True)
    return PushFigures(backend, count, enqueue_seconds, bare_seconds, bare_sent, api_seconds,
                       api_sent, made)


def print_figures(figures: PushFigures) -> None:
    count, bare_seconds, bare_sent = figures.count, figures.bare_seconds, figures.bare_sent
    api_seconds, api_sent = figures.api_seconds, figures.api_sent
    print(f"ledger: {figures.backend}; {count:,} create-task actions; batch 50")
    print(f"enqueue (one transaction):     {figures.enqueue_seconds * 1e6 / count:8.0f} µs per "
          f"action")
    print(f"outbox overhead (no-op target): {bare_seconds * 1e3 / bare_sent:8.2f} ms per "
          f"action ({bare_sent / bare_seconds:,.0f} actions/s)")
    print(f"through the API stand-in:      {api_seconds * 1e3 / api_sent:8.2f} ms per "
          f"action ({api_sent / api_seconds:,.0f} tasks/s); {figures.made:,} tasks read back")
    print(f"ledger share of the API path:  {bare_seconds / api_seconds:8.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--ledger-url", help="default: a SQLite file in a temporary folder")
    arguments = parser.parse_args()
    print_figures(measure(arguments.actions, arguments.ledger_url))


if __name__ == "__main__":
    main()
