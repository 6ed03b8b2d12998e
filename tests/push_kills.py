"""Killing `tc-sync push` mid-conversation with the Open Dental API stand-in, and draining the
outbox afterwards: shared by tests/test_push_crash.py and the reliability suite's crash tests.

Each helper takes the configuration file; the SQLite ledger is `ledger.db` beside it.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest

from tests.od_api_standin import StandIn


class Child(Protocol):
    """What the helpers use of a child process (a Popen, or a forked run)."""

    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


Start = Callable[[Path], Child]
"""Starts `tc-sync push` for a configuration file and returns the child."""


def run_push(config: Path, *, errors: bool = False) -> subprocess.Popen[bytes]:
    """`python -m tc_sync --config CONFIG push` as a child process."""
    return subprocess.Popen([sys.executable, "-m", "tc_sync", "--config", str(config), "push"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if errors else subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def kill_while_talking(config: Path, state: StandIn, kills: int, rng: random.Random,
                       start: Start = run_push) -> int:
    """Start `tc-sync push` and SIGKILL it mid-conversation, `kills` times (fewer if the
    outbox empties first). Returns how many kills landed."""
    landed = 0
    for _ in range(kills * 3):
        seen = len(state.requests)
        child = start(config)
        deadline = time.monotonic() + 20
        while len(state.requests) == seen and child.poll() is None:
            if time.monotonic() > deadline:
                child.kill()
                pytest.fail("tc-sync push made no request in 20 s")
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.06))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            landed += 1
        child.wait()
        if landed >= kills or not due(config):
            break
    return landed


def due(config: Path) -> int:
    """Actions of the outbox not yet sent, cancelled or dead."""
    database = config.parent / "ledger.db"
    with sqlite3.connect(database) as connection:
        return int(connection.execute(
            "SELECT COUNT(*) FROM outbox WHERE status NOT IN ('sent', 'cancelled', 'dead')"
        ).fetchone()[0])


def finish(config: Path, start: Start | None = None) -> None:
    """Run `tc-sync push` unkilled until nothing is left (retries fall due after ~1 s)."""
    for _ in range(30):
        if not due(config):
            return
        if start is None:
            process = run_push(config, errors=True)
            _, errors = process.communicate(timeout=120)
            code, said = process.returncode, errors.decode()
        else:
            code = start(config).wait(timeout=120)
            said = "its stderr went where `start` sent it"
        assert code in (0, 1), said
        if due(config):
            time.sleep(1.2)
    pytest.fail(f"{due(config)} actions still owed after 30 clean runs")
