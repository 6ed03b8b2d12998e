"""Kill the dispatcher with SIGKILL at random points, again and again: no task is made twice,
none is lost, and every resolved item's task ends closed.

`tc-sync push` runs as a child process against a SQLite ledger and the Open Dental API
stand-in (tests/od_api_standin.py, a real HTTP server over Open Dental's real task tables in
MariaDB). Each kill lands while the child is talking to the API: the test waits for the
child's next request, then kills it a random few milliseconds later, before or after the task
row is written, before the answer arrives.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import outbox
from tc_sync.push.outbox import ActionKind, enqueue, marker_of
from tests.od_api_standin import StandIn, add_task_lists, create_task_tables, serve
from tests.push_kills import finish, kill_while_talking

pytestmark = pytest.mark.mysql

TASKS, CLOSES, KILLS_PER_PHASE = 100, 50, 26
TASK_LIST = 21


def write_config(tmp_path: Path, mysql_server, database: str, base_url: str) -> Path:
    config = tmp_path / "tc-sync.yaml"
    config.write_text(yaml.safe_dump({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": mysql_server.host, "port": mysql_server.port, "user": mysql_server.user,
            "database": database}}},
        "push": {"batch_size": 4, "interval_seconds": 5, "first_retry_seconds": 1,
                 "targets": {"od-api": {
                     "kind": "opendental_api", "source": "main", "base_url": base_url,
                     "developer_key": "dev-key", "customer_key": "cust-key",
                     "timeout_seconds": 5, "mark_done": "always"}}},
    }))
    return config


def test_sigkill_at_random_points_never_doubles_or_loses_a_task(
        mysql_server, mysql_database, tmp_path):
    connection = mysql_server.connect(mysql_database)
    create_task_tables(connection)
    add_task_lists(connection, [(TASK_LIST, "TC", 0)])
    state = StandIn(mysql_server.host, mysql_server.port, mysql_server.user,
                    mysql_server.password, mysql_database, latency_seconds=0.004,
                    reply_latency_seconds=0.008)
    rng = random.Random(20261127)
    server = serve(state)
    running = next(server)
    try:
        config = write_config(tmp_path, mysql_server, mysql_database, running.base_url)
        ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
        create_keys = [f"od-api:create_task:unscheduled_treatment:main:{n}:1"
                       for n in range(1, TASKS + 1)]
        with ledger.begin() as transaction:
            for number, key in enumerate(create_keys, start=1):
                enqueue(transaction, key=key, source_id="main",
                        item_key=f"unscheduled_treatment:main:{number}", target="od-api",
                        action=ActionKind.CREATE_TASK,
                        payload={"patient_id": number, "kind": "unscheduled_treatment",
                                 "task_list": TASK_LIST, "creator_user": 1,
                                 "priority": None, "text": f"Call to schedule: D2740 #{number}"})

        kills = kill_while_talking(config, state, KILLS_PER_PHASE, rng)
        finish(config)
        with ledger.begin() as transaction:                  # half the items resolve
            for number, key in enumerate(create_keys[:CLOSES], start=1):
                enqueue(transaction, key=key.replace("create_task", "close_task"),
                        source_id="main", item_key=f"unscheduled_treatment:main:{number}",
                        target="od-api", action=ActionKind.CLOSE_TASK,
                        payload={"create_key": key, "reason": "scheduled"})
        kills += kill_while_talking(config, state, KILLS_PER_PHASE, rng)
        finish(config)
    finally:
        server.close()

    assert kills >= 50, f"only {kills} kills landed mid-push"
    tasks = state.tasks()
    markers = Counter(task["Descript"].rsplit("[", 1)[1].rstrip("]") for task in tasks)
    assert len(tasks) == TASKS and set(markers.values()) == {1}        # none twice, none lost
    assert set(markers) == {marker_of(key) for key in create_keys}
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(outbox)).mappings().all()
    assert {row["status"] for row in rows} == {"sent"}
    task_by_marker = {task["Descript"].rsplit("[", 1)[1].rstrip("]"): task for task in tasks}
    for row in rows:
        if row["action"] == "create_task":                   # the ledger knows the real task
            assert row["external_id"] == str(
                task_by_marker[marker_of(row["idempotency_key"])]["TaskNum"])
    done = {marker_of(key) for key in create_keys[:CLOSES]}
    assert {m for m, task in task_by_marker.items() if task["TaskStatus"] == 2} == done
    with sqlite3.connect(tmp_path / "ledger.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ledger.dispose()
