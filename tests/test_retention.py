"""Retention: old run history and long-finished outbox rows leave the ledger in small batches,
and nothing a report, the health page, an item's history or a task still to close needs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import run_cycle
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.retention import prune
from tc_sync.ledger.schema import item_events, items, outbox, sync_run_streams, sync_runs
from tc_sync.ledger.state import now_utc
from tc_sync.observability.health import source_health
from tc_sync.reports.period import last_complete
from tc_sync.reports.report import gather

NOW = now_utc()
BUILT = datetime.now(UTC)


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def practice(tmp_path: Path, ledger_url: str) -> Iterator[tuple[sa.Engine, Settings]]:
    """A synced practice whose sync history goes back 600 days and whose last successful
    sync was 511 days ago (its server was retired; its data is still reported); only its
    first two syncs saw its PMS version."""
    write_sqlite(tmp_path / "practice.db", PracticeSpec(patients=120))
    settings = settings_from_mapping({"ledger": {"url": ledger_url}, "sources": {"main": {
        "kind": "opendental", "connection": {"driver": "sqlite",
                                             "path": str(tmp_path / "practice.db")}}}})
    engine = open_ledger(ledger_url)
    for _ in range(2):
        [cycle] = run_cycle(engine, settings, load_mappings(None), full=False)
        assert cycle.run.outcome == "ok"
    with engine.begin() as connection:
        for run_id, days in ((cycle.run.run_id - 1, 602), (cycle.run.run_id, 601)):
            connection.execute(sync_runs.update().where(sync_runs.c.run_id == run_id)
                               .values(started_at=ago(days), finished_at=ago(days)))
        connection.execute(sync_runs.insert(), [_run(ago(600 - day), "ok") for day in range(90)]
                           + [_run(ago(day), "failed") for day in range(450, 0, -1)])
    yield engine, settings
    engine.dispose()


def _run(started: datetime, outcome: str) -> dict[str, Any]:
    return {"source_id": "main", "mode": "incremental", "started_at": started,
            "finished_at": started + timedelta(seconds=3), "outcome": outcome, "rows_read": 0,
            "rows_inserted": 0, "rows_updated": 0, "rows_deleted": 0, "rows_quarantined": 0,
            "statements": 0, "longest_statement_ms": 0,
            "error_class": "OperationalError" if outcome == "failed" else None}


def _action(key: str, item_key: str | None, status: str, done: datetime | None,
            action: str = "create_task") -> dict[str, Any]:
    return {"idempotency_key": key, "source_id": "main", "item_key": item_key,
            "target": "od", "action": action, "payload": "{}", "status": status,
            "verify_first": False, "attempts": 1, "next_attempt_at": done or NOW,
            "created_at": done or NOW, "updated_at": done or NOW, "done_at": done,
            "external_id": "77" if status == "sent" else None}


def _what_people_see(engine: sa.Engine, settings: Settings) -> tuple[Any, ...]:
    zone = ZoneInfo("UTC")
    built = BUILT
    with engine.connect() as connection:
        report = gather(connection, site_id="practice", source_ids=["main"],
                        mappings=load_mappings(None), zone=zone, built_at=built,
                        period=last_complete("monthly", built.date()),
                        window_days=settings.reports.acceptance_window_days)
        health = source_health(connection, settings, built)
        history = connection.execute(sa.select(item_events).order_by(
            item_events.c.event_id)).all()
        item_rows = connection.execute(sa.select(items).order_by(items.c.item_key)).all()
    return report, health, history, item_rows


def test_old_run_history_goes_but_health_reports_and_item_history_stay(practice):
    engine, settings = practice
    before = _what_people_see(engine, settings)

    pruned = prune(engine, ["main"], runs_days=400, outbox_days=180, batch_rows=25, now=NOW)

    assert _what_people_see(engine, settings) == before
    assert before[1][0].last_success_at is not None      # 511 days ago, still known
    with engine.connect() as connection:
        starts = connection.execute(sa.select(sync_runs.c.started_at)).scalars().all()
        orphans = connection.execute(sa.select(sa.func.count()).select_from(
            sync_run_streams).where(sync_run_streams.c.run_id.not_in(
                sa.select(sync_runs.c.run_id)))).scalar()
    # the last sync that saw the PMS version, the last good one; then 400 days of failures
    assert sorted(s for s in starts if s < ago(400)) == [ago(601), ago(511)]
    assert len(starts) == 2 + 400
    assert orphans == 0
    assert pruned.runs == 1 + 89 + 50 and pruned.batches >= (1 + 89 + 50) // 25


def test_outbox_rows_go_only_when_nothing_can_need_them_again(practice):
    engine, _ = practice
    with engine.begin() as connection:
        open_key, done_key, closing_key = connection.execute(
            sa.select(items.c.item_key).order_by(items.c.item_key).limit(3)).scalars().all()
        connection.execute(items.update().where(items.c.item_key.in_([done_key, closing_key]))
                           .values(status="resolved", resolved_at=ago(300)))
        connection.execute(items.update().where(items.c.item_key == open_key)
                           .values(status="open", resolved_at=None))
        connection.execute(outbox.insert(), [
            _action("alert-old", None, "sent", ago(200), "alert"),
            _action("done-create", done_key, "sent", ago(320)),
            _action("done-close", done_key, "sent", ago(300), "close_task"),
            _action("open-create", open_key, "sent", ago(320)),
            _action("closing-create", closing_key, "sent", ago(320)),
            _action("closing-close", closing_key, "retry", None, "close_task"),
            _action("dead-old", None, "dead", ago(300), "alert"),
            _action("alert-recent", None, "sent", ago(10), "alert"),
            _action("never-sent", None, "cancelled", ago(250), "alert"),
        ])

    pruned = prune(engine, ["main"], runs_days=400, outbox_days=180, now=NOW)

    with engine.connect() as connection:
        left = set(connection.execute(sa.select(outbox.c.idempotency_key)).scalars())
    assert left == {"open-create", "closing-create", "closing-close", "dead-old",
                    "alert-recent"}
    assert pruned.outbox == 4


def test_pruning_stops_between_batches_when_the_daemon_stops(practice):
    engine, _ = practice
    stop = threading.Event()
    stop.set()
    assert prune(engine, ["main"], runs_days=400, outbox_days=180, stop=stop).runs == 0


def test_runs_that_changed_nothing_and_looks_go_after_two_weeks_and_the_others_stay(practice):
    engine, settings = practice
    changed = {**_run(ago(20), "ok"), "rows_read": 5, "rows_updated": 5}
    looked = {**changed, "mode": "hinted"}          # a look at the hints: a log, whatever it read
    with engine.begin() as connection:
        connection.execute(sync_runs.insert(), [_run(ago(20), "ok"), changed, looked,
                                                _run(ago(5), "ok")])
        newest_ok = connection.execute(sa.select(sa.func.max(sync_runs.c.run_id))).scalar()
    before = _what_people_see(engine, settings)

    prune(engine, ["main"], runs_days=400, outbox_days=180, unchanged_runs_days=14, now=NOW)

    with engine.connect() as connection:
        recent = connection.execute(sa.select(
            sync_runs.c.run_id, sync_runs.c.outcome, sync_runs.c.rows_updated).where(
            sync_runs.c.started_at >= ago(30))).all()
    assert _what_people_see(engine, settings) == before
    kept_ok = [row for row in recent if row.outcome == "ok"]
    assert [row.rows_updated for row in kept_ok] == [5, 0]          # changed, and 5 days old
    assert kept_ok[-1].run_id == newest_ok
    assert len(recent) == len(kept_ok) + 30                         # failures stay 400 days
