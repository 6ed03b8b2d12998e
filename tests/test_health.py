"""Source health colours: what a coordinator sees beside her queues and IT sees in alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import sync_runs
from tc_sync.observability.health import Colour, source_health

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)   # 10:00 in Chicago


def _settings(quiet: list[str] | None = None):  # type: ignore[no-untyped-def]
    return settings_from_mapping({
        "timezone": "America/Chicago",
        "health": {"amber_after_minutes": 30, "red_after_minutes": 240},
        "sources": {"main": {"kind": "opendental", "connection": {"host": "pms"},
                             "schedule": {"quiet_windows": quiet or []}}},
    }, label="test.yaml")


def _run(engine: sa.Engine, finished: datetime, outcome: str) -> None:
    with engine.begin() as connection:
        connection.execute(sync_runs.insert().values(
            source_id="main", mode="incremental", started_at=finished.replace(tzinfo=None),
            finished_at=finished.replace(tzinfo=None), outcome=outcome, rows_read=0,
            rows_inserted=0, rows_updated=0, rows_deleted=0, rows_quarantined=0, statements=0,
            longest_statement_ms=0, error_class=None if outcome == "ok" else "OperationalError"))


def _colour(engine: sa.Engine, quiet: list[str] | None = None, now: datetime = NOW) -> Colour:
    with engine.connect() as connection:
        (health,) = source_health(connection, _settings(quiet), now)
    return health.colour


def test_never_synced_is_red(tmp_path: Path) -> None:
    engine = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    assert _colour(engine) is Colour.RED


def test_colour_follows_the_age_of_the_last_success(tmp_path: Path) -> None:
    engine = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    _run(engine, NOW - timedelta(minutes=5), "ok")
    assert _colour(engine) is Colour.GREEN
    assert _colour(engine, now=NOW + timedelta(minutes=40)) is Colour.AMBER
    assert _colour(engine, now=NOW + timedelta(hours=5)) is Colour.RED


def test_a_failed_last_run_is_amber_even_when_recent(tmp_path: Path) -> None:
    engine = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    _run(engine, NOW - timedelta(minutes=10), "ok")
    _run(engine, NOW - timedelta(minutes=2), "failed")
    with engine.connect() as connection:
        (health,) = source_health(connection, _settings(), NOW)
    assert health.colour is Colour.AMBER
    assert "OperationalError" in health.reason


def test_time_in_a_quiet_window_does_not_age_a_source(tmp_path: Path) -> None:
    engine = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    # Last success at 21:50 Chicago (CDT); the backup window runs 22:00-05:00; it is now 04:30.
    last = datetime(2026, 3, 10, 2, 50, tzinfo=UTC)
    _run(engine, last, "ok")
    during = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    assert _colour(engine, ["22:00-05:00"], now=during) is Colour.GREEN
    assert _colour(engine, [], now=during) is Colour.RED
