"""A cycle leaves the items to a later run when evaluating them now would be wrong or slow to
stop: the daemon stopping mid-pull, or no sync yet having read every table whole."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import STOPPING, cycle_source
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items, queue_builds


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table))
                   .scalar_one())


def test_a_stopped_pull_ends_the_cycle_before_the_items_and_the_next_evaluates(tmp_path: Path
                                                                               ) -> None:
    write_sqlite(tmp_path / "practice.db", PracticeSpec(patients=60))
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "queues": {"folder": str(tmp_path / "queues")},
        "sources": {"main": {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(tmp_path / "practice.db")}}}})
    engine = open_ledger(settings.ledger.url)
    mappings = load_mappings(None)
    stop = threading.Event()
    stop.set()
    stopped = cycle_source(engine, settings, mappings, "main", stop=stop, queues=True)
    assert stopped.run.outcome == "stopped"
    assert stopped.waiting == STOPPING
    assert stopped.stages == {"pull": "stopped", "reconcile": "waiting", "push": "skipped",
                              "queues": "skipped"}
    assert count(engine, items) == 0
    assert count(engine, queue_builds) == 0
    assert not (tmp_path / "queues").exists()
    synced = cycle_source(engine, settings, mappings, "main", queues=True)
    assert synced.stages == {"pull": "ok", "reconcile": "ok", "push": "skipped",
                             "queues": "ok"}
    assert synced.waiting is None and synced.items.opened == count(engine, items) > 0
    engine.dispose()

