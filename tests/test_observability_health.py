"""Health colour changes: logged as `health_changed` and handed to the alert hook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog

from tc_sync.config import settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import sync_runs
from tc_sync.observability import logs
from tc_sync.observability.health import Colour
from tc_sync.observability.healthwatch import HealthChange
from tc_sync.runtime.daemon import Daemon

from . import observed

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _every_level_logged() -> Iterator[None]:
    logs.configure(2)
    yield
    observed.reset()


def _settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_from_mapping({
        "timezone": "America/Chicago",
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "health": {"amber_after_minutes": 30, "red_after_minutes": 240},
        "http": {"enabled": False},
        "sources": {"main": {"kind": "opendental"}, "north": {"kind": "opendental"}},
    })


def _run(engine: sa.Engine, source: str, finished: datetime, outcome: str) -> None:
    with engine.begin() as connection:
        connection.execute(sync_runs.insert().values(
            source_id=source, mode="incremental", started_at=finished.replace(tzinfo=None),
            finished_at=finished.replace(tzinfo=None), outcome=outcome, rows_read=0,
            rows_inserted=0, rows_updated=0, rows_deleted=0, rows_quarantined=0, statements=0,
            longest_statement_ms=0, error_class=None if outcome == "ok" else "DriverError"))


def _daemon(tmp_path: Path, alerts: list[HealthChange]) -> Daemon:
    settings = _settings(tmp_path)
    return Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper(),
                  on_health_change=alerts.append)


def _moves(alerts: list[HealthChange]) -> list[tuple[str, str | None, str]]:
    return [(a.source_id, a.previous.value if a.previous else None, a.current.value)
            for a in alerts]


def test_each_change_of_colour_is_logged_and_handed_to_the_alert_hook(tmp_path):
    alerts: list[HealthChange] = []
    daemon = _daemon(tmp_path, alerts)
    _run(daemon.engine, "north", NOW - timedelta(minutes=5), "ok")
    with structlog.testing.capture_logs() as logged:
        daemon.check_health(NOW)             # main never synced: red from the start
        _run(daemon.engine, "main", NOW + timedelta(minutes=1), "ok")
        daemon.check_health(NOW + timedelta(minutes=2))
        daemon.check_health(NOW + timedelta(minutes=3))   # nothing moved: nothing said
        _run(daemon.engine, "main", NOW + timedelta(minutes=4), "failed")
        daemon.check_health(NOW + timedelta(minutes=5))
        daemon.check_health(NOW + timedelta(hours=5))     # north and main both go stale
    assert _moves(alerts) == [
        ("main", None, "red"), ("main", "red", "green"), ("main", "green", "amber"),
        ("main", "amber", "red"), ("north", "green", "red")]
    changes = [entry for entry in logged if entry["event"] == "health_changed"]
    assert [(c["source"], c["from"], c["to"]) for c in changes] == _moves(alerts)
    assert changes[0]["log_level"] == "warning" and changes[1]["log_level"] == "info"
    assert alerts[2].health.last_outcome == "failed"
    assert alerts[3].at == NOW + timedelta(hours=5)
    daemon.engine.dispose()


def test_a_source_already_green_at_start_raises_no_alert(tmp_path):
    alerts: list[HealthChange] = []
    daemon = _daemon(tmp_path, alerts)
    for source in ("main", "north"):
        _run(daemon.engine, source, NOW - timedelta(minutes=1), "ok")
    daemon.check_health(NOW)
    assert alerts == []
    assert daemon.health.colours == {"main": Colour.GREEN, "north": Colour.GREEN}
    daemon.engine.dispose()


def test_an_alert_hook_that_fails_is_logged_and_watching_goes_on(tmp_path):
    calls: list[str] = []

    def broken_mailer(change: HealthChange) -> None:
        calls.append(change.source_id)
        raise ConnectionRefusedError("smtp down")

    settings = _settings(tmp_path)
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper(),
                    on_health_change=broken_mailer)
    with structlog.testing.capture_logs() as logged:
        daemon.check_health(NOW)
    assert calls == ["main", "north"]
    failures = [entry for entry in logged if entry["event"] == "health_callback_failed"]
    assert [f["error_class"] for f in failures] == ["ConnectionRefusedError"] * 2
    daemon.engine.dispose()


def test_the_daemon_looks_at_health_every_minute(tmp_path):
    daemon = _daemon(tmp_path, [])
    daemon.build_jobs(datetime(2026, 3, 10, 9, 0, tzinfo=daemon.zone))
    job = daemon.scheduler.get_job("health")
    assert job is not None and job.trigger.interval == timedelta(minutes=1)
    daemon.engine.dispose()
