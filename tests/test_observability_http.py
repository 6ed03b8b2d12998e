"""/healthz and /metrics over real HTTP, served by a running daemon."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items
from tc_sync.runtime.daemon import Daemon

from . import observed


def fetch(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pms") / "practice.db"
    write_sqlite(path, PracticeSpec(patients=40))
    return path


def _settings(tmp_path: Path, sources: dict[str, Any]) -> Settings:
    return settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "http": {"port": observed.free_port()},
        "sources": sources,
    })


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Start a daemon (on a thread, as `tc-sync run` does) once the test built it."""
    started: list[tuple[Daemon, threading.Thread]] = []

    def start(daemon: Daemon) -> str:
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        started.append((daemon, thread))
        base = f"http://127.0.0.1:{daemon.settings.http.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if daemon.metrics.sync_runs.collect()[0].samples:     # the start-up cycle ran
                return base
            time.sleep(0.1)
        raise AssertionError("the daemon's first cycle did not finish")

    yield start
    for daemon, thread in started:
        daemon.request_stop()
        thread.join(timeout=30)
        daemon.engine.dispose()


def test_healthz_is_200_with_each_source_green_and_metrics_tell_what_ran(
        tmp_path, practice, running):
    settings = _settings(tmp_path, {"demo": {"kind": "opendental", "connection": {
        "driver": "sqlite", "path": str(practice)}}})
    engine = open_ledger(settings.ledger.url)
    base = running(Daemon(engine, settings, MappingsKeeper()))

    status, kind, body = fetch(f"{base}/healthz")
    assert (status, kind) == (200, "application/json")
    health = json.loads(body)
    assert health["status"] == "ok"
    (source,) = health["sources"]
    assert (source["id"], source["colour"]) == ("demo", "green")
    synced = datetime.fromisoformat(source["last_success_at"])
    assert abs((datetime.now(UTC) - synced).total_seconds()) < 60

    status, kind, text = fetch(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain")
    values = samples(text)
    assert values[("tc_sync_sync_runs_total", (("job", "cycle"), ("outcome", "ok"),
                                               ("source", "demo")))] == 1
    assert values[("tc_sync_rows_read_total", (("source", "demo"),))] > 1000
    assert values[("tc_sync_cycle_duration_seconds_count", (("job", "cycle"),
                                                            ("source", "demo")))] == 1
    assert values[("tc_sync_source_health", (("colour", "green"), ("source", "demo")))] == 1
    assert values[("tc_sync_source_health", (("colour", "red"), ("source", "demo")))] == 0
    assert values[("tc_sync_last_success_timestamp_seconds", (("source", "demo"),))] == (
        pytest.approx(synced.timestamp()))
    with engine.connect() as connection:
        open_by_queue = dict(connection.execute(
            sa.select(items.c.queue, sa.func.count()).where(items.c.status == "open")
            .group_by(items.c.queue)).all())
    assert open_by_queue, "the demo practice opens items"
    assert {labels[0][1]: value for (name, labels), value in values.items()
            if name == "tc_sync_open_items"} == open_by_queue
    assert fetch(f"{base}/nothing-here")[0] == 404


def test_healthz_is_503_naming_a_red_source(tmp_path, practice, running):
    settings = _settings(tmp_path, {
        "demo": {"kind": "opendental", "connection": {"driver": "sqlite",
                                                      "path": str(practice)}},
        "annex": {"kind": "opendental", "connection": {"host": "127.0.0.1", "port": 9,
                                                       "retries": 0, "connect_timeout": 2}},
    })
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper())
    base = running(daemon)
    deadline = time.monotonic() + 30
    while len(daemon.metrics.sync_runs.collect()[0].samples) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)                     # both start-up cycles ran, one of them failed
    status, _, body = fetch(f"{base}/healthz")
    assert status == 503
    health = json.loads(body)
    assert health["status"] == "failing"
    assert {(s["id"], s["colour"], s["last_success_at"] is None)
            for s in health["sources"]} == {("demo", "green", False), ("annex", "red", True)}
    values = samples(fetch(f"{base}/metrics")[2])
    assert values[("tc_sync_sync_runs_total", (("job", "cycle"), ("outcome", "failed"),
                                               ("source", "annex")))] == 1


def test_healthz_says_stopping_once_a_stop_is_asked(tmp_path, practice):
    settings = _settings(tmp_path, {"demo": {"kind": "opendental", "connection": {
        "driver": "sqlite", "path": str(practice)}}})
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper())
    daemon.scheduler.start(paused=True)
    assert daemon.healthz()[1]["status"] == "failing"      # never synced yet: red
    daemon.request_stop()
    assert daemon.healthz() == (503, {"status": "stopping", "sources": [
        {"id": "demo", "colour": "red", "reason": "never synced successfully",
         "last_success_at": None}]})
    daemon.scheduler.shutdown(wait=False)
    daemon.engine.dispose()
