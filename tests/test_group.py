"""A group of practices on one PostgreSQL ledger: many daemons start together, each guards its
own sources with a lease, and none holds a transaction open while it waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import head_revision

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]


def _start_together(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    processes = [subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for command in commands]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def _wait(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_eight_processes_starting_at_once_on_a_new_ledger_all_start(postgres_url, tmp_path):
    config = tmp_path / "group.yaml"
    config.write_text(f"ledger:\n  url: {postgres_url}\n", encoding="utf-8")
    command = [sys.executable, "-m", "tc_sync", "--config", str(config), "status"]

    results = _start_together([command] * 8, tmp_path)

    failures = [result.stderr for result in results if result.returncode != 0]
    assert failures == []
    assert not any("Traceback" in result.stderr for result in results)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [(head_revision(),)]


@pytest.fixture
def group(tmp_path: Path, postgres_url: str) -> dict[str, Any]:
    """Two practices (downtown, uptown) of one group configuration on a PostgreSQL ledger."""
    for practice in ("downtown", "uptown"):
        write_sqlite(tmp_path / f"{practice}.db", PracticeSpec(patients=150))
    return {
        "ledger": {"url": postgres_url, "lease_seconds": 10},
        "http": {"port": 0},
        "queues": {"folder": str(tmp_path / "queues")},
        "logging": {"file": str(tmp_path / "logs" / "tc-sync.log")},
        "sources": {practice: {"kind": "opendental", "schedule": {"interval_seconds": 30},
                               "connection": {"driver": "sqlite",
                                              "path": str(tmp_path / f"{practice}.db")}}
                    for practice in ("downtown", "uptown")},
    }


def _config(folder: Path, data: dict[str, Any], name: str = "group.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _tc_sync(config: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "tc_sync", "--config", str(config), *arguments]


@pytest.fixture
def ledger(postgres_url: str) -> Iterator[sa.Engine]:
    """The test's own look at the ledger (one connection, autocommit: it holds nothing)."""
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", pool_size=1)
    yield engine
    engine.dispose()


def _start(daemons: list[subprocess.Popen[str]], command: list[str],
           cwd: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    daemons.append(process)
    return process


def _synced(ledger: sa.Engine, source_id: str) -> bool:
    with ledger.connect() as connection:
        try:
            return bool(connection.execute(sa.text(
                "SELECT count(*) FROM sync_runs WHERE source_id = :s AND outcome = 'ok'"),
                {"s": source_id}).scalar())
        except sa.exc.ProgrammingError:   # no tables yet
            return False


def _events(log: Path, event: str) -> int:
    """How many times the daemon's JSON log says `event`."""
    if not log.exists():
        return 0
    return log.read_text(encoding="utf-8").count(f'"event": "{event}"')


def _backends(ledger: sa.Engine) -> list[dict[str, Any]]:
    """Every other session on the test's database, with how long its transaction is open."""
    with ledger.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text(
            "SELECT pid, state, extract(epoch FROM clock_timestamp() - xact_start) AS open_for "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))]


def test_a_daemon_holds_no_transaction_between_cycles_and_at_most_two_connections(
        group, tmp_path, ledger, daemons):
    config = _config(tmp_path, group)
    daemon = _start(daemons, _tc_sync(config, "run"), tmp_path)
    most = 0
    deadline = time.monotonic() + 60
    while not (_synced(ledger, "downtown") and _synced(ledger, "uptown")):
        assert time.monotonic() < deadline, "the daemon never finished its first cycles"
        assert daemon.poll() is None, daemon.communicate()
        most = max(most, len(_backends(ledger)))
        time.sleep(0.02)
    log = tmp_path / "logs" / "tc-sync.log"
    while _events(log, "queues_built") < 2:  # each source's cycle ends with its queues
        assert time.monotonic() < deadline, "the daemon never finished its first cycles"
        most = max(most, len(_backends(ledger)))
        time.sleep(0.02)
    time.sleep(0.5)      # the daemon now waits for its next cycles, 30 s on

    waiting = []
    for _ in range(30):  # 3 s between cycles, lease renewed meanwhile
        sessions = _backends(ledger)
        most = max(most, len(sessions))
        waiting += [s for s in sessions if s["state"] != "idle" or s["open_for"] is not None]
        time.sleep(0.1)

    assert waiting == []
    assert 1 <= most <= 2
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0


def test_two_daemons_cannot_take_one_source(group, tmp_path, ledger, daemons):
    config = _config(tmp_path, group)
    first = _start(daemons, _tc_sync(config, "run"), tmp_path)
    _wait("the first daemon's sync", lambda: _synced(ledger, "downtown"))

    second = subprocess.run(_tc_sync(config, "run"), check=False, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)

    assert second.returncode == 1
    assert "is syncing source 'downtown' into this ledger" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.poll() is None
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    with ledger.connect() as connection:   # a clean stop gives the sources back at once
        assert connection.execute(sa.text("SELECT count(*) FROM source_leases")).scalar() == 0


def test_the_sources_of_a_killed_daemon_are_taken_over_when_its_lease_expires(
        group, tmp_path, ledger, daemons):
    config = _config(tmp_path, group)
    _kill_after_its_first_sync(config, tmp_path, ledger, daemons)
    with ledger.begin() as connection:    # as if it ran on another practice's server
        connection.execute(sa.text(
            "UPDATE source_leases SET holder = 'other-server:' || split_part(holder, ':', 2) "
            "|| ':' || split_part(holder, ':', 3)"))

    too_soon = subprocess.run(_tc_sync(config, "run"), check=False, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert too_soon.returncode == 1
    assert "lease until" in too_soon.stderr

    with ledger.connect() as connection:
        expires = connection.execute(sa.text(
            "SELECT max(expires_at) - (now() AT TIME ZONE 'UTC') FROM source_leases")).scalar()
    time.sleep(max(expires.total_seconds(), 0) + 0.5)
    successor = _start(daemons, _tc_sync(config, "run"), tmp_path)
    _wait("the successor's lease", lambda: _holders(ledger) == {str(successor.pid)})
    assert successor.poll() is None
    successor.send_signal(signal.SIGTERM)
    assert successor.wait(timeout=60) == 0


def test_a_daemon_killed_on_this_server_gives_its_sources_up_at_once(
        group, tmp_path, ledger, daemons):
    config = _config(tmp_path, group)
    _kill_after_its_first_sync(config, tmp_path, ledger, daemons)
    successor = _start(daemons, _tc_sync(config, "run"), tmp_path)   # restarted by systemd
    _wait("the successor's lease", lambda: _holders(ledger) == {str(successor.pid)})
    assert successor.poll() is None
    successor.send_signal(signal.SIGTERM)
    assert successor.wait(timeout=60) == 0


def _kill_after_its_first_sync(config: Path, tmp_path: Path, ledger: sa.Engine,
                               daemons: list[subprocess.Popen[str]]) -> None:
    """Start a daemon, let it sync, and SIGKILL it (its leases stay behind)."""
    killed = _start(daemons, _tc_sync(config, "run"), tmp_path)
    _wait("the first daemon's sync", lambda: _synced(ledger, "downtown"))
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)


def _holders(ledger: sa.Engine) -> set[str]:
    """The process ids holding leases."""
    with ledger.connect() as connection:
        return {holder.split(":")[-2] for holder in connection.execute(
            sa.text("SELECT holder FROM source_leases")).scalars()}


def test_one_group_configuration_runs_a_daemon_per_practice_side_by_side(
        group, tmp_path, ledger, daemons):
    for derived in ("http", "queues", "logging"):
        del group[derived]
    config = _config(tmp_path, group)
    downtown = _start(daemons, _tc_sync(config, "run", "--source", "downtown"), tmp_path)
    uptown = _start(daemons, _tc_sync(config, "run", "--source", "uptown"), tmp_path)

    _wait("both practices' syncs", lambda: _synced(ledger, "downtown") and _synced(
        ledger, "uptown"))
    _wait("both work queues", lambda: all(
        (tmp_path / "queues" / practice / "queues.html").exists()
        for practice in ("downtown", "uptown")))

    assert downtown.poll() is None and uptown.poll() is None
    assert _holders(ledger) == {str(downtown.pid), str(uptown.pid)}
    for daemon in (downtown, uptown):
        daemon.send_signal(signal.SIGTERM)
    for daemon, practice, port in ((downtown, "downtown", 9465), (uptown, "uptown", 9466)):
        out, _ = daemon.communicate(timeout=60)
        assert daemon.returncode == 0
        assert f"tc-sync-{practice}.log" in out and f":{port}/healthz" in out
        assert (tmp_path / "logs" / f"tc-sync-{practice}.log").stat().st_size > 0
