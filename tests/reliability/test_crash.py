"""Crash: SIGKILL at random points of sync, reconcile and push, then restart and check.

Each kill runs the real command line (`python -m tc_sync --config FILE sync [--full]`, which
syncs then reconciles, or `... push`) as a child process (forked from a server that imported
tc-sync once: tests/reliability/cli_forkserver.py) against a small synthetic Open Dental
practice in MariaDB and a SQLite ledger (one variant: a PostgreSQL ledger). Between kills the
practice changes the way Open Dental changes it (tests/reliability/practice_changes.py):
treatment planned, booked, completed, claims sent and paid, calls logged, appointments broken;
before every fourth run a hard delete, and that run is a full sweep (the only one that sees
deletes). The test waits for evidence of the phase it is killing, then kills a random few
milliseconds later:

* sync: the run's `sync_runs` row appears, or a stream's cursor moves (a batch committed);
* reconcile: the run's row is closed (the pull is over, reconcile began), or a new item event
  is visible (a chunk of patients committed, the watermark not yet saved);
* push: the Open Dental API stand-in receives the child's next request.

A kill counts for its phase only when it landed inside it: for sync, the run was left
`running`; for reconcile, the pull had finished and reconcile's watermark had not moved; for
push, the child was talking to the API. After each kill the command runs again, unkilled
(in-process, the same `run_cycle` the command runs), and then:

* the SQLite file passes `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
* no pull is left unfinished; the replica holds exactly the PMS's keys for the streams checked,
  none marked deleted that the PMS still has, and every live replica row equals, column for
  column, the row a ledger built from scratch over the same PMS state holds;
* the open items are exactly those of that clean ledger, field for field (none lost, none
  doubled, none stale); each item's key is its natural key; its history opened it once and
  reopened it once per later episode, and its last transition is its status;
* each outbox idempotency key is there once; every item of a task kind that opened after the
  first reconcile has one task action per episode (`tasks.backfill` is off, as by default, so
  nothing would make up for a task lost with a crash), and every episode that ended had its
  task closed or its creation cancelled;
* after push: every action is sent or cancelled, Open Dental's task table holds one task per
  sent creation (its marker once: none doubled, none lost), the ledger knows each task's
  number, exactly the closed items' tasks are Done, and each task shows once in its item's
  history.

Each phase records one line of the reliability summary, then asserts.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.cycle import run_cycle
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import cursors, item_events, reconcile_state
from tc_sync.ledger.schema import sync_runs as runs
from tests.od_api_standin import StandIn, add_task_lists, create_task_tables, serve
from tests.push_kills import Child, due, finish, kill_while_talking
from tests.reliability.cli_forkserver import ForkServer
from tests.reliability.ledger_checks import (
    TASK_LIST,
    Site,
    check_ledger,
    check_tasks,
    make_site,
)
from tests.reliability.summary import Summary

pytestmark = [pytest.mark.mysql,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

PATIENTS = 30
KILLS = dict.fromkeys(("sync", "reconcile", "push"),
                      int(os.environ.get("TC_SYNC_CRASH_KILLS", "70")))
"""Kills per phase (at least 200 in all by default; fewer with TC_SYNC_CRASH_KILLS)."""
POSTGRES_KILLS = max(2, round(KILLS["sync"] / 6))
SWEEP_EVERY = 4


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    made: list[Site] = []
    yield made
    for site in made:
        site.ledger.dispose()
        site.pms.close()


# --- children: `python -m tc_sync` runs, forked from a server that imported tc-sync ---------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ForkServer]:
    started = ForkServer(tmp_path / "children.log")
    yield started
    started.close()


def kill_on(child: Child, evidence: Callable[[], bool],
            delay: float) -> bool:
    """SIGKILL `child` `delay` seconds after `evidence()` first holds. False when the child
    ended before that (the kill did not land)."""
    deadline = time.monotonic() + 60
    while not evidence():
        if child.poll() is not None:
            return False
        if time.monotonic() > deadline:
            child.kill()
            child.wait()
            pytest.fail("no evidence of the phase within 60 s")
        time.sleep(0.001)
    if delay:
        time.sleep(delay)
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.returncode == -signal.SIGKILL


# --- what the ledger shows ----------------------------------------------------------------


def _scalar(site: Site, query: sa.Select[Any]) -> Any:
    """One value, or None while the ledger is busy recovering from a kill."""
    try:
        with site.ledger.connect() as connection:
            return connection.execute(query).scalar()
    except sa.exc.OperationalError:
        return None


@dataclass(frozen=True)
class Marks:
    """Where the ledger stood before a child started."""

    run_id: int
    event_id: int
    cursor_moved_at: datetime | None
    watermark: datetime | None


def marks(site: Site) -> Marks:
    return Marks(_scalar(site, sa.select(sa.func.coalesce(sa.func.max(runs.c.run_id), 0))),
                 _scalar(site, sa.select(sa.func.coalesce(sa.func.max(item_events.c.event_id),
                                                          0))),
                 _scalar(site, sa.select(sa.func.max(cursors.c.updated_at))),
                 _scalar(site, sa.select(reconcile_state.c.changes_through)))


def child_run(site: Site, before: Marks) -> str | None:
    """The outcome of the first run started after `before` (None: there is none)."""
    outcome = _scalar(site, sa.select(runs.c.outcome).where(runs.c.run_id > before.run_id)
                      .order_by(runs.c.run_id).limit(1))
    return None if outcome is None else str(outcome)


def run_started(site: Site, before: Marks) -> Callable[[], bool]:
    return lambda: child_run(site, before) is not None


def batch_committed(site: Site, before: Marks) -> Callable[[], bool]:
    def moved() -> bool:
        latest = _scalar(site, sa.select(sa.func.max(cursors.c.updated_at)))
        return latest is not None and (before.cursor_moved_at is None
                                       or latest > before.cursor_moved_at)
    return moved


def pull_over(site: Site, before: Marks) -> Callable[[], bool]:
    return lambda: child_run(site, before) not in (None, "running")


def event_written(site: Site, before: Marks) -> Callable[[], bool]:
    return lambda: (_scalar(site, sa.select(sa.func.max(item_events.c.event_id)))
                    or 0) > before.event_id


def restart(site: Site, *, full: bool) -> list[str]:
    """The command again, unkilled: `run_cycle`, as `tc-sync sync [--full]` runs it."""
    engine = open_ledger(site.url)
    try:
        (result,) = run_cycle(engine, site.settings, site.mappings, full=full)
    finally:
        engine.dispose()
    return [] if result.run.outcome == "ok" else [
        f"the restarted run ended {result.run.outcome}: {result.run.error}"]


# --- the sync and reconcile phases --------------------------------------------------------


@dataclass
class Tally:
    """One phase's kills and what the checks after them found."""

    phase: str
    launched: int = 0
    landed: int = 0
    in_phase: int = 0
    in_sweeps: int = 0
    broken: list[str] = field(default_factory=list)
    failures: int = 0
    check_seconds: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    reach: float = 1.0
    """Scales the kill delays: smaller after a kill that came too late for the phase (on a
    loaded machine everything is slower, and faster on an idle one), a little larger after one
    inside it, so the kills spread over the phase instead of missing it."""

    def figure(self) -> str:
        check = statistics.median(self.check_seconds or [0.0])
        return (f"{self.in_phase} kills in {self.phase} ({self.in_sweeps} in full sweeps; "
                f"{self.landed} landed of {self.launched} runs); file, replica, items and "
                f"outbox checked after each restart (median {check:.2f} s); "
                f"{time.monotonic() - self.started:.0f} s in all")


def _evidence(site: Site, phase: str, before: Marks, *, full: bool, everyone: bool,
              reach: float, rng: random.Random) -> tuple[Callable[[], bool], float]:
    """What to wait for, and how long after it to kill (about as long as the phase lasts on
    this practice: a full pull ~0.3 s, an incremental one ~0.1 s; reconciling every patient
    ~0.1 s, a few ~0.03 s)."""
    if phase == "sync":
        if rng.random() < 0.5:
            return run_started(site, before), rng.uniform(0, reach * (0.25 if full else 0.06))
        return batch_committed(site, before), rng.uniform(0, reach * 0.02)
    if rng.random() < 0.6:
        return pull_over(site, before), rng.uniform(
            0, reach * (0.09 if full or everyone else 0.03))
    return event_written(site, before), rng.uniform(0, reach * 0.004)


def kill_rounds(site: Site, server: ForkServer, phase: str, target: int,
                rng: random.Random) -> Tally:
    """Change the practice, run `tc-sync sync`, kill it in `phase`, restart, check; until
    `target` kills landed in the phase."""
    tally = Tally(phase)
    while tally.in_phase < target and tally.launched < target * 4:
        full = tally.launched % SWEEP_EVERY == SWEEP_EVERY - 1
        everyone = phase == "reconcile" and rng.random() < 0.6
        site.changes.change(rng.randint(2, 6), deletes=full, everyone=everyone)
        before = marks(site)
        evidence, delay = _evidence(site, phase, before, full=full, everyone=everyone,
                                    reach=tally.reach, rng=rng)
        child = server.run("--config", str(site.config), "sync", *(["--full"] if full else []))
        tally.launched += 1
        landed = kill_on(child, evidence, delay)
        if not landed:
            if child.returncode != 0:
                tally.broken.append(f"run {tally.launched}: an unkilled `tc-sync sync` exited "
                                    f"{child.returncode} (see children.log)")
                tally.failures += 1
            continue
        tally.landed += 1
        outcome = child_run(site, before)
        watermark = _scalar(site, sa.select(reconcile_state.c.changes_through))
        inside = outcome == "running" if phase == "sync" else (
            outcome == "ok" and watermark == before.watermark)
        tally.in_phase += inside
        tally.in_sweeps += inside and full
        tally.reach = min(1.5, tally.reach * 1.05) if inside else max(0.1, tally.reach * 0.8)
        started = time.monotonic()
        problems = restart(site, full=full) + check_ledger(site)
        tally.check_seconds.append(time.monotonic() - started)
        if problems:
            tally.failures += 1
            tally.broken += [f"kill {tally.landed} ({phase}, run {outcome}): {p}"
                             for p in problems]
    return tally


def report(reliability: Summary, scenario: str, tally: Tally, target: int) -> None:
    """Record the phase's line, then fail on what broke (or on too few kills in the phase)."""
    reliability.record(scenario, runs=tally.in_phase, failures=tally.failures,
                       figure=tally.figure())
    assert not tally.broken, "\n".join(tally.broken[:30])
    assert tally.in_phase >= target, (
        f"only {tally.in_phase} of {tally.landed} kills landed in {tally.phase}")


def test_sigkill_during_sync(mysql_server, mysql_database, tmp_path, sites, server,
                             reliability):
    site = make_site(tmp_path, mysql_server, mysql_database, f"sqlite:///{tmp_path / 'ledger.db'}",
                     seed=11, patients=PATIENTS)
    sites.append(site)
    tally = kill_rounds(site, server, "sync", KILLS["sync"], random.Random(20261201))
    report(reliability, "crash: SIGKILL during sync (SQLite)", tally, KILLS["sync"])


def test_sigkill_during_reconcile(mysql_server, mysql_database, tmp_path, sites, server,
                                  reliability):
    site = make_site(tmp_path, mysql_server, mysql_database, f"sqlite:///{tmp_path / 'ledger.db'}",
                     seed=12, patients=PATIENTS)
    sites.append(site)
    assert not restart(site, full=False)            # the first pull, so reconcile has items
    assert not check_ledger(site)
    tally = kill_rounds(site, server, "reconcile", KILLS["reconcile"], random.Random(20261202))
    report(reliability, "crash: SIGKILL during reconcile (SQLite)", tally, KILLS["reconcile"])


@pytest.mark.postgres
def test_sigkill_during_sync_with_a_postgresql_ledger(mysql_server, mysql_database,
                                                       postgres_url, tmp_path, sites, server,
                                                       reliability):
    site = make_site(tmp_path, mysql_server, mysql_database, postgres_url, seed=13,
                     patients=PATIENTS)
    sites.append(site)
    tally = kill_rounds(site, server, "sync", POSTGRES_KILLS, random.Random(20261203))
    report(reliability, "crash: SIGKILL during sync (PostgreSQL)", tally, POSTGRES_KILLS)


# --- the push phase -----------------------------------------------------------------------


def test_sigkill_during_push(mysql_server, mysql_database, tmp_path, sites, server,
                             reliability):
    pms = mysql_server.connect(mysql_database)
    create_task_tables(pms)
    add_task_lists(pms, [(TASK_LIST, "TC", 0)])
    pms.close()
    state = StandIn(mysql_server.host, mysql_server.port, mysql_server.user,
                    mysql_server.password, mysql_database, latency_seconds=0.004,
                    reply_latency_seconds=0.008)
    api = serve(state)
    running = next(api)
    rng = random.Random(20261204)
    tally = Tally("push")
    try:
        site = make_site(tmp_path, mysql_server, mysql_database,
                         f"sqlite:///{tmp_path / 'ledger.db'}", seed=14,
                         patients=PATIENTS, base_url=running.base_url)
        sites.append(site)
        assert not restart(site, full=False)   # items owed already: no tasks (no backfill)
        assert not check_ledger(site)
        while tally.in_phase < KILLS["push"] and tally.launched < 60:
            tally.launched += 1                # items open and resolve: tasks to make and close
            site.changes.change(rng.randint(20, 30), deletes=tally.launched % 4 == 0)
            assert not restart(site, full=tally.launched % 4 == 0)
            owed = due(site.config)
            landed = kill_while_talking(site.config, state,
                                        min(rng.randint(3, 8), KILLS["push"] - tally.in_phase),
                                        rng, start=server.push)
            tally.landed += landed
            tally.in_phase += landed
            if not landed:
                continue                       # nothing was owed: no kill to recover from
            started = time.monotonic()
            finish(site.config, start=server.push)
            problems = check_ledger(site) + check_tasks(site, state)
            tally.check_seconds.append(time.monotonic() - started)
            if problems:
                tally.failures += 1
                tally.broken += [f"round {tally.launched} ({owed} actions due, {landed} kills): "
                                 f"{p}" for p in problems]
    finally:
        api.close()
    tally.launched = tally.in_phase          # every kill in push landed mid-conversation
    reliability.record("crash: SIGKILL during push (SQLite, Open Dental API)",
                       runs=tally.in_phase, failures=tally.failures,
                       figure=f"{tally.in_phase} kills mid-request, {len(state.tasks())} tasks "
                       f"made and checked after each clean push; "
                       f"{time.monotonic() - tally.started:.0f} s")
    assert not tally.broken, "\n".join(tally.broken[:30])
    assert tally.in_phase >= KILLS["push"], f"only {tally.in_phase} kills landed mid-push"
