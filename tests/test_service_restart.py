"""`tc-sync run` killed with SIGKILL in the middle of a pull, then started again.

What a power cut or an antivirus kill does to the service: no stop handler runs. The ledger must
still be a sound SQLite file, and the restarted daemon must sync at once (catch-up) and finish
the pull, leaving a replica equal, row for row, to a clean sync of the same practice.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.cli import main
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import replica
from tc_sync.ledger.state import start_run
from tc_sync.runtime.lock import DaemonLock

from . import observed

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

REPLICA: dict[str, sa.Table] = {table.name: table for table in replica.values()}


def _query(ledger: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the ledger the way another process would, without holding it open."""
    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _wait(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def write_config(folder: Path, ledger: Path) -> Path:
    config = folder / f"{ledger.stem}.yaml"
    config.write_text(yaml.safe_dump({
        "ledger": {"url": f"sqlite:///{ledger}"},
        "sync": {"batch_size": 100},
        "http": {"port": observed.free_port()},
        "sources": {"main": {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(folder / "practice.db")}}},
    }), encoding="utf-8")
    return config


def replica_rows(ledger: Path, table: str) -> list[tuple[object, ...]]:
    """A replica table's records, without the ledger's own bookkeeping times."""
    columns = [column.name for column in REPLICA[table].columns
               if column.name not in ("first_seen", "last_changed", "deleted_at")]
    return _query(ledger, f"SELECT {', '.join(columns)} FROM {table} ORDER BY pms_id")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_sqlite(tmp_path / "practice.db", PracticeSpec(patients=1000))
    return write_config(tmp_path, tmp_path / "ledger.db")


def start(config: Path, started: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "tc_sync", "--config", str(config), "run"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started.append(process)
    return process


def test_a_daemon_killed_mid_pull_restarts_catches_up_and_matches_a_clean_sync(site, daemons):
    ledger = site.parent / "ledger.db"
    first = start(site, daemons)

    def mid_pull() -> bool:      # a stream has committed batches of a pull not yet done
        if not ledger.exists():
            return False
        try:
            return bool(_query(ledger, "SELECT 1 FROM cursors WHERE pull_mode IS NOT NULL "
                                       "AND pull_after_key > 0"))
        except sqlite3.OperationalError:                 # tables not made yet
            return False

    _wait("a pull in progress", mid_pull)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert _query(ledger, "PRAGMA integrity_check") == [("ok",)]
    ((interrupted,),) = _query(ledger, "SELECT run_id FROM sync_runs WHERE outcome = 'running'")

    restarted_at = time.monotonic()
    second = start(site, daemons)
    _wait("a run after the restart",
          lambda: bool(_query(ledger, f"SELECT 1 FROM sync_runs WHERE run_id > {interrupted}")),
          timeout=30)
    assert time.monotonic() - restarted_at < 20, "a restarted daemon syncs at once"
    _wait("the catch-up run to finish", lambda: bool(_query(
        ledger, f"SELECT 1 FROM sync_runs WHERE run_id > {interrupted} AND outcome = 'ok'")),
        timeout=120)
    second.send_signal(signal.SIGTERM)
    _, errors = second.communicate(timeout=60)
    assert second.returncode == 0, errors
    assert _query(ledger, f"SELECT outcome FROM sync_runs WHERE run_id = {interrupted}") == [
        ("interrupted",)]                        # the killed run is closed, not left running

    assert _query(ledger, "PRAGMA integrity_check") == [("ok",)]
    assert _query(ledger, "SELECT COUNT(*) FROM cursors WHERE pull_mode IS NOT NULL") == [(0,)]
    clean = site.parent / "clean.db"          # the same practice, synced once, undisturbed
    assert main(["--config", str(write_config(site.parent, clean)), "sync"]) == 0
    for table in REPLICA:
        assert replica_rows(ledger, table) == replica_rows(clean, table), table
    assert _query(ledger, "SELECT COUNT(*) > 0 FROM items WHERE status = 'open'") == [(1,)]


def test_a_sync_killed_by_hand_is_closed_as_interrupted_by_the_next_one(site):
    ledger = site.parent / "manual.db"
    config = write_config(site.parent, ledger)
    assert main(["--config", str(config), "sync"]) == 0
    engine = open_ledger(f"sqlite:///{ledger}")
    with engine.begin() as connection:                # what a SIGKILL mid-pull leaves behind
        start_run(connection, "main", "incremental")
    engine.dispose()
    assert main(["--config", str(config), "sync"]) == 0
    assert _query(ledger, "SELECT outcome FROM sync_runs ORDER BY run_id") == [
        ("ok",), ("interrupted",), ("ok",)]


def test_a_sync_by_hand_while_the_daemon_runs_is_refused(site, capsys):
    ledger = site.parent / "busy.db"
    config = write_config(site.parent, ledger)
    engine = open_ledger(f"sqlite:///{ledger}")
    try:
        with DaemonLock(engine, ["main"]):
            assert main(["--config", str(config), "sync"]) == 1
    finally:
        engine.dispose()
    assert "another tc-sync daemon is using the ledger" in capsys.readouterr().err
    assert _query(ledger, "SELECT COUNT(*) FROM sync_runs") == [(0,)]
