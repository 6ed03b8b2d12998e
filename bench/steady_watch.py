"""The steady-state benchmark's watcher: what the daemon is doing (its JSON log), what it costs
(its and mariadbd's CPU, its memory), and when it rewrote the queue files; then, from the
ledger, how long each front-desk change took to reach the items, the queues and the tasks.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from steady_desk import Change
from sync_bench import process_cpu_seconds as cpu_seconds

PHASES = {"sync_started": "sync", "sync_finished": "reconcile", "reconciled": "queues",
          "queues_built": "between cycles", "cycle_finished": "between cycles"}
"""The daemon's log events that start each phase of a cycle."""



def memory_mb(pid: int, name: str = "VmRSS") -> float:
    found = re.search(rf"^{name}:\s*(\d+) kB", Path(f"/proc/{pid}/status").read_text(),
                      re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def epoch(stamp: datetime | str) -> float:
    """A naive UTC ledger time (SQLite hands back text) as seconds since the epoch."""
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


@dataclass(eq=False, repr=False)
class Watcher(threading.Thread):
    """Every `every` seconds: new log lines (phase, events), RSS, queue files' newest mtime."""

    daemon_pid: int
    log: Path
    queues: Path
    every: float = 0.25
    phase: str = "starting"
    peak_mb: dict[str, float] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)
    """(time.time() when seen, event name), in order."""
    logged: dict[str, float] = field(default_factory=dict)
    """Each event's first time as the daemon logged it (seconds since the epoch)."""
    queue_writes: list[float] = field(default_factory=list)
    """Each newest queue-file mtime seen, in order."""
    cpu: list[tuple[float, str, float]] = field(default_factory=list)
    """(time.time() when seen, event name, its `cpu_seconds`) for events that log one."""
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        offset = 0
        while not self.stop.wait(self.every):
            offset = self._read_log(offset)
            try:
                rss = memory_mb(self.daemon_pid)
            except OSError:
                return                       # the daemon is gone
            self.peak_mb[self.phase] = max(self.peak_mb.get(self.phase, 0.0), rss)
            newest = max((entry.stat().st_mtime for entry in os.scandir(self.queues)
                          if entry.is_file()), default=0.0) if self.queues.is_dir() else 0.0
            if newest and (not self.queue_writes or newest > self.queue_writes[-1]):
                self.queue_writes.append(newest)

    def _read_log(self, offset: int) -> int:
        if not self.log.exists():
            return offset
        if self.log.stat().st_size < offset:
            offset = 0                       # the log was rotated
        with self.log.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
                event = str(record.get("event", ""))
                stamp = datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00"))
            except (ValueError, KeyError):
                continue
            self.events.append((time.time(), event))
            if isinstance(record.get("cpu_seconds"), int | float):
                self.cpu.append((time.time(), event, float(record["cpu_seconds"])))
            self.logged.setdefault(event, stamp.timestamp())
            self.phase = PHASES.get(event, self.phase)
        return offset + end

    def cpu_by_event(self, since: float, until: float) -> dict[str, tuple[int, float]]:
        """Events seen between `since` and `until` that log their thread's CPU: how many of
        each, and their CPU seconds in all."""
        found: dict[str, tuple[int, float]] = {}
        for at, event, spent in self.cpu:
            if since <= at <= until:
                count, total = found.get(event, (0, 0.0))
                found[event] = (count + 1, total + spent)
        return found

    def count(self, event: str, since: float = 0.0) -> int:
        return sum(1 for at, name in self.events if name == event and at >= since)

    def wait_for(self, event: str, since: float, timeout: float) -> bool:
        """Wait until `event` is seen after `since`; False on timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count(event, since):
                return True
            time.sleep(0.5)
        return False


@dataclass
class Cost:
    """CPU of the daemon and of mariadbd over a stretch, as shares of one core."""

    seconds: float = 0.0
    daemon: float = 0.0
    server: float = 0.0
    """mariadbd as a whole: the front desk's own statements count here too."""
    server_ours: float = 0.0
    """mariadbd on tc-sync's connections alone (its own counters, per account)."""


def cost(daemon_pid: int, server_pid: int, action: object,
         server_ours: Callable[[], float]) -> Cost:
    """Run `action()` and return the CPU both processes spent during it; `server_ours` gives
    the server's CPU seconds on tc-sync's connections so far."""
    assert callable(action)
    started, daemon, server = time.monotonic(), cpu_seconds(daemon_pid), cpu_seconds(server_pid)
    ours = server_ours()
    action()
    wall = time.monotonic() - started
    return Cost(wall, (cpu_seconds(daemon_pid) - daemon) / wall,
                (cpu_seconds(server_pid) - server) / wall, (server_ours() - ours) / wall)


@dataclass
class Reached:
    """Freshness of one kind of change, in seconds from its commit."""

    kind: str
    changes: int
    ledger: list[float] = field(default_factory=list)
    queues: list[float] = field(default_factory=list)
    tasks: list[float] = field(default_factory=list)
    task_changes: int = 0
    """Changes that should make a task: an item opening, of a kind that makes tasks (items
    owed before tc-sync started have none to close)."""


def freshness(ledger: sa.Engine, changes: list[Change], queue_writes: list[float],
              tasks_for: set[str]) -> dict[str, Reached]:
    """Per kind of change: seconds to the item's event in the ledger, to the first queue
    rewrite after that event, and (kinds in `tasks_for`) to the task action's delivery."""
    found: dict[str, Reached] = {}
    with ledger.connect() as connection:
        for change in changes:
            reached = found.setdefault(change.kind, Reached(change.kind, 0))
            reached.changes += 1
            events = connection.execute(sa.text(
                "SELECT at FROM item_events WHERE item_key = :key AND event = :event "
                "ORDER BY at"), {"key": change.item_key, "event": change.expect}).scalars()
            # the ledger's clock is whole seconds at worst: allow one before the commit
            at = next((epoch(stamp) for stamp in events
                       if epoch(stamp) >= change.committed_at - 1), None)
            if at is None:
                continue
            reached.ledger.append(max(at - change.committed_at, 0.0))
            written = next((mtime for mtime in queue_writes if mtime >= at), None)
            if written is not None:
                reached.queues.append(max(written - change.committed_at, 0.0))
            wants_task = (change.expect == "opened"
                          and change.item_key.split(":", 1)[0] in tasks_for)
            reached.task_changes += wants_task
            if wants_task:
                done = connection.execute(sa.text(
                    "SELECT MIN(done_at) FROM outbox WHERE item_key = :key AND status = 'sent' "
                    "AND created_at >= :since"), {"key": change.item_key, "since": datetime.
                                                  fromtimestamp(at - 1, UTC).replace(
                                                      tzinfo=None)}).scalar()
                if done is not None:
                    reached.tasks.append(max(epoch(done) - change.committed_at, 0.0))
    return found
