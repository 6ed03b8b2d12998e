"""Faults the daemon meets in a real practice, each against the real thing.

Each scenario runs `tc-sync run` as a child process (or, where one cycle is the point, the real
cycle in this process) on a small Open Dental-shaped practice in MariaDB and a SQLite ledger:

a. the PMS database down for a long time (refused, then silent, through tests/tcp_proxy.py);
b. a PMS table locked by another connection (MyISAM `LOCK TABLES procedurelog WRITE`), and an
   InnoDB transaction holding row locks;
c. a slow network between tc-sync and the PMS (latency on every chunk, both directions);
d. the ledger's disk full (a real tmpfs of a few megabytes; mounting needs root);
e. the Open Dental API answering 429 and 500 for a while (the API stand-in,
   tests/od_api_standin.py, since the real API cannot run here).

Each records one line of the reliability summary before asserting, so the table shows failures
too. The daemon's cycle interval is 30 s, the shortest the configuration allows, so a daemon
scenario takes a minute or two. Measured on a busy 2-core machine, the file takes about 5 min
20 s: a 105 s, b 70 s + 10 s, c 20 s, d 65 s + 3 s, e 65 s. Longer faults, by environment:
TC_SYNC_FAULT_PMS_DOWN_SECONDS (default 90; past 150 the health must turn red as well),
TC_SYNC_FAULT_LOCK_SECONDS (45), TC_SYNC_FAULT_LATENCY_MS (100), TC_SYNC_FAULT_API_429_SECONDS
and TC_SYNC_FAULT_API_500_SECONDS (20 each).

Scenario d mounts a tmpfs, which needs root (or CAP_SYS_ADMIN in a container) and mount(8);
without them it skips, or fails under CI=true like a missing database server.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest
import yaml

from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import cycle_source
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.ledger.db import open_ledger
from tc_sync.observability import logs
from tc_sync.push.outbox import marker_of
from tests import observed
from tests.conftest import MysqlServer, unavailable
from tests.od_api_standin import Fault, StandIn, add_task_lists, create_task_tables, serve
from tests.reliability.faultsite import (
    INTERVAL,
    PATIENTS,
    Practice,
    Run,
    Site,
    env_seconds,
    ledger_contents,
    read,
    reference_open_items,
    settings_for,
    today,
)
from tests.reliability.summary import Summary
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.mysql,
              pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals, tmpfs")]

CONNECT_TIMEOUT = 5
"""The sites' connect timeout (a LAN value); with the driver's default 4 retries a cycle gives
up on a silent network after about 5 x 5 s plus 15 s of backoff."""
RETRY_BUDGET = 5 * CONNECT_TIMEOUT + 20


@pytest.fixture
def practice(mysql_server: MysqlServer, mysql_database: str) -> Practice:
    loaded = Practice(mysql_server, mysql_database)
    loaded.load()
    return loaded


@pytest.fixture
def proxy(mysql_server: MysqlServer) -> Iterator[TcpProxy]:
    forwarding = TcpProxy(mysql_server.host, mysql_server.port)
    yield forwarding
    forwarding.close()


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    started: list[Site] = []
    yield started
    for site in started:
        site.kill()


def subject(item_key: str) -> int:
    """The PMS id an item is about (the last part of its key)."""
    return int(item_key.rsplit(":", 1)[1])


def changed(before: dict[str, Any], now: dict[str, Any]) -> set[str]:
    return {key for key, value in now.items() if before.get(key) != value}


# a. The PMS database down ---------------------------------------------------------------------

def test_pms_down_for_a_long_time_resolves_nothing_and_recovers_by_itself(
        practice: Practice, proxy: TcpProxy, tmp_path: Path, sites: list[Site],
        reliability: Summary) -> None:
    """The PMS database unreachable for `TC_SYNC_FAULT_PMS_DOWN_SECONDS` (default 90 s, three
    cycle intervals and more than a cycle's retries): first refused (the server stopped), then,
    from the first failed run or half-way, silent (a network losing packets: every connection
    waits for its timeout). The front desk works on meanwhile: an appointment is booked and a
    claim received while tc-sync cannot see them. Health is read from the daemon's /healthz."""
    outage = env_seconds("TC_SYNC_FAULT_PMS_DOWN_SECONDS", 90)
    site = Site(tmp_path, tmp_path / "data", "127.0.0.1", proxy.port, practice,
                connection={"connect_timeout": CONNECT_TIMEOUT})
    sites.append(site)
    site.start()
    first = site.first_run()
    before = site.items()
    open_before = site.open_items()
    booked = min(k for k in open_before if k.startswith("unscheduled_treatment:"))
    received = min(k for k in open_before if k.startswith("claim_outstanding:"))

    cut_at = time.monotonic()
    proxy.cut()
    practice.schedule(subject(booked))
    practice.receive_claim(subject(received))
    colours: list[str] = []
    changed_while_down: set[str] = set()
    silent = False
    while (elapsed := time.monotonic() - cut_at) < outage and site.alive():
        changed_while_down |= changed(before, site.items())
        finished = [r for r in site.finished_runs() if r.run_id > first.run_id]
        if finished and (colour := site.colour()) is not None:
            colours.append(colour)                  # from the first failed run on
        if not silent and (finished or elapsed >= outage / 2):
            proxy.cut(hang=True)
            silent = True
        time.sleep(1)
    alive = site.alive()
    while_down = [r for r in site.finished_runs() if r.run_id > first.run_id]
    proxy.restore()
    restored_at = time.monotonic()
    recovered = site.next_run(first.run_id, timeout=INTERVAL + RETRY_BUDGET + 30)
    recovery = time.monotonic() - restored_at
    after = site.items()
    colour_after = site.colour()
    reference = reference_open_items(practice, tmp_path / "reference")
    code = site.stop()
    stderr = site.stderr()

    wrong = [r for r in while_down if (r.outcome, r.error_class) != ("failed", "DriverError")
             or "cannot connect to MySQL" not in (r.error_detail or "")]
    resolved_after = [after[booked], after[received]]
    reliability.record(
        f"fault: PMS down {outage:.0f} s (refused, then silent)",
        runs=len(site.finished_runs()),
        failures=len(changed_while_down) + len(wrong) + (not alive) + (recovered is None)
        + (resolved_after != [("resolved", "scheduled"), ("resolved", "received")]),
        figure=f"{len(while_down)} runs failed while down, {len(changed_while_down)} items "
               f"changed while down, health {'/'.join(sorted(set(colours))) or 'unknown'}; "
               + (f"recovered {recovery:.0f} s after restore" if recovered else
                  "did not recover"))

    assert alive, f"the daemon exited while the PMS was down:\n{stderr[-3000:]}"
    assert not changed_while_down, f"items changed while the PMS was down: {changed_while_down}"
    assert while_down, "no run was recorded while the PMS was down"
    assert not wrong, wrong
    assert colours and set(colours) <= {"amber", "red"}, colours
    if outage > 2 * 60 + INTERVAL:      # red_after_minutes: 2, counted from the last success
        assert "red" in colours, colours
    assert recovered is not None, f"no ok run after the restore:\n{stderr[-3000:]}"
    assert recovery < INTERVAL + RETRY_BUDGET + 10
    assert resolved_after == [("resolved", "scheduled"), ("resolved", "received")]
    assert {k for k, (status, _) in after.items() if status == "open"} == reference
    assert colour_after == "green"
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert site.integrity() == [("ok",)]


# b. Locks -------------------------------------------------------------------------------------

def complete_planned_treatment(connection: pymysql.connections.Connection,
                               patient_id: int) -> None:
    """The dentist completes all of a patient's planned treatment today (on `connection`,
    which may be the one holding the lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        done = cursor.execute(
            "UPDATE procedurelog SET ProcStatus = 2, ProcDate = %s, DateComplete = %s "
            "WHERE PatNum = %s AND ProcStatus = 1", (str(today()), str(today()), patient_id))
    assert done > 0


def test_a_table_locked_by_another_connection_resolves_nothing_and_recovers(
        practice: Practice, mysql_server: MysqlServer, tmp_path: Path, sites: list[Site],
        reliability: Summary) -> None:
    """Another session holds `LOCK TABLES procedurelog WRITE` (MyISAM, as Open Dental's tables
    are) for `TC_SYNC_FAULT_LOCK_SECONDS` (default 45 s, and at least until a cycle ran into
    it). The daemon reads with a 5 s read timeout and one retry, so the procedures stream gives
    up while the lock is held and the run is partial; the other streams still arrive, among
    them an appointment booked meanwhile, with which a complete run would resolve an item: a
    partial run must not. The locking session itself completes another patient's planned
    treatment. Once the lock is released, the next cycle is complete and resolves both."""
    hold = env_seconds("TC_SYNC_FAULT_LOCK_SECONDS", 45)
    site = Site(tmp_path, tmp_path / "data", mysql_server.host, mysql_server.port, practice,
                connection={"read_timeout": 5, "retries": 1})
    sites.append(site)
    site.start()
    first = site.first_run()
    before = site.items()
    treatment = sorted(k for k in site.open_items() if k.startswith("unscheduled_treatment:"))
    booked, completed = treatment[0], treatment[1]

    def met_the_lock() -> list[Run]:
        return [r for r in site.finished_runs() if r.run_id > first.run_id]

    locker = practice.connection()
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLES procedurelog WRITE")
        locked_at = time.monotonic()
        practice.schedule(subject(booked))
        complete_planned_treatment(locker, subject(completed))
        changed_while_locked: set[str] = set()
        waiting = 0
        while ((time.monotonic() - locked_at < hold or not met_the_lock())
               and time.monotonic() - locked_at < hold + 3 * INTERVAL and site.alive()):
            changed_while_locked |= changed(before, site.items())
            waiting = max(waiting, practice.waiting_statements())
            time.sleep(1)
        alive = site.alive()
        during = met_the_lock()
        # a statement tc-sync gave up on must not wait for the lock on the PMS server (it
        # would hold a connection there): MariaDB notices the closed connection in seconds
        waited = time.monotonic()
        while practice.waiting_statements() and time.monotonic() - waited < 30:
            time.sleep(0.5)
        left_waiting = practice.waiting_statements()
        waited = time.monotonic() - waited
    finally:
        with locker.cursor() as cursor:
            cursor.execute("UNLOCK TABLES")
        locker.close()
    released_at = time.monotonic()
    recovered = site.next_run(max([first.run_id, *(r.run_id for r in during)]),
                              timeout=INTERVAL + 60)
    recovery = time.monotonic() - released_at
    after = site.items()
    reference = reference_open_items(practice, tmp_path / "reference")
    code = site.stop()
    stderr = site.stderr()

    wrong = [r for r in during if r.outcome != "partial"
             or not (r.error_detail or "").startswith("procedures: MySQL")]
    resolved_after = [after[booked], after[completed]]
    reliability.record(
        f"fault: procedurelog locked {hold:.0f} s (MyISAM LOCK TABLES WRITE)",
        runs=len(site.finished_runs()),
        failures=len(changed_while_locked) + len(wrong) + (not during) + (not alive)
        + left_waiting + (recovered is None)
        + (resolved_after != [("resolved", "scheduled"), ("resolved", "completed")]),
        figure=f"{len(during)} runs partial while locked, {len(changed_while_locked)} items "
               f"changed while locked, up to {waiting} statements waiting on the server (none "
               f"{waited:.0f} s after tc-sync gave up); "
               + (f"recovered {recovery:.0f} s after release" if recovered else
                  "did not recover"))

    assert alive, f"the daemon exited while the table was locked:\n{stderr[-3000:]}"
    assert during, "no run met the lock"
    assert not changed_while_locked, changed_while_locked
    assert not wrong, wrong
    assert left_waiting == 0, "statements tc-sync gave up on still wait on the PMS server"
    assert recovered is not None, f"no ok run after the release:\n{stderr[-3000:]}"
    assert resolved_after == [("resolved", "scheduled"), ("resolved", "completed")]
    assert {k for k, (status, _) in after.items() if status == "open"} == reference
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]


def test_an_innodb_transaction_holding_row_locks_neither_blocks_a_cycle_nor_leaks_into_it(
        mysql_server: MysqlServer, mysql_database: str, tmp_path: Path,
        reliability: Summary) -> None:
    """Sites that converted Open Dental to InnoDB: another transaction locks every procedure
    row (`SELECT ... FOR UPDATE`) and changes a patient's treatment without committing. The
    cycle reads by consistent snapshot, so it is not blocked, and it must not see the
    uncommitted change; after the commit, the next cycle does. (The real cycle in this
    process: no daemon is needed to show what one cycle reads.)"""
    practice = Practice(mysql_server, mysql_database)
    with practice.connection() as connection:
        write_mysql(connection, PracticeSpec(patients=PATIENTS, today=today()), engine="InnoDB")
    settings = settings_for(practice, f"sqlite:///{tmp_path / 'ledger.db'}", read_timeout=10)
    engine = open_ledger(settings.ledger.url)
    mappings = load_mappings(None)
    try:
        assert cycle_source(engine, settings, mappings, "main").run.outcome == "ok"
        ledger = tmp_path / "ledger.db"
        open_before = {k for (k,) in read(ledger, "SELECT item_key FROM items "
                                                  "WHERE status = 'open'")}
        completed = min(k for k in open_before if k.startswith("unscheduled_treatment:"))
        locker = practice.connection()
        try:
            with locker.cursor() as cursor:
                cursor.execute("SET SESSION autocommit = 0")
                cursor.execute("SELECT ProcNum FROM procedurelog FOR UPDATE")
            complete_planned_treatment(locker, subject(completed))
            started = time.monotonic()        # a full sweep: every locked row is read
            during = cycle_source(engine, settings, mappings, "main", full=True)
            seconds = time.monotonic() - started
            open_during = {k for (k,) in read(ledger, "SELECT item_key FROM items "
                                                      "WHERE status = 'open'")}
            locker.commit()
        finally:
            locker.close()
        after = cycle_source(engine, settings, mappings, "main")
        status = read(ledger, "SELECT status, resolution FROM items WHERE item_key = ?",
                      completed)
    finally:
        engine.dispose()

    procedures = sum(t.rows_read for t in during.run.streams if t.stream == "procedures")
    reliability.record(
        "fault: InnoDB row locks held by an open transaction", runs=2,
        failures=int(during.run.outcome != "ok") + len(open_before ^ open_during)
        + (status != [("resolved", "completed")]),
        figure=f"full sweep not blocked ({procedures:,} locked rows read in {seconds:.1f} s), "
               f"uncommitted change not read, read once committed")
    assert during.run.outcome == "ok" and seconds < 10
    assert procedures > 1000
    assert open_during == open_before
    assert after.run.outcome == "ok"
    assert status == [("resolved", "completed")]


# c. A slow network ----------------------------------------------------------------------------

def test_a_slow_network_still_completes_a_cycle_with_the_same_ledger_as_a_fast_one(
        practice: Practice, mysql_server: MysqlServer, tmp_path: Path,
        reliability: Summary) -> None:
    """Every chunk between tc-sync and the PMS delayed `TC_SYNC_FAULT_LATENCY_MS` (default
    100 ms) in each direction, as on a VPN to a far office. Two cycles (the first full, the
    second after the front desk's changes), each beside the same cycle on a direct connection:
    the two ledgers must hold the same records, items and item history. The real cycle, in
    this process."""
    latency = env_seconds("TC_SYNC_FAULT_LATENCY_MS", 100) / 1000
    proxy = TcpProxy(mysql_server.host, mysql_server.port, latency=latency)
    mappings = load_mappings(None)
    ledgers = {"direct": tmp_path / "direct.db", "slow": tmp_path / "slow.db"}
    seconds: dict[str, list[float]] = {"direct": [], "slow": []}
    statements: list[int] = []
    outcomes: list[str] = []
    try:
        for step in ("first", "after changes"):
            if step == "after changes":
                open_now = {k for (k,) in read(ledgers["direct"], "SELECT item_key FROM "
                                                                  "items WHERE status = 'open'")}
                practice.schedule(subject(min(k for k in open_now
                                              if k.startswith("unscheduled_treatment:"))))
                practice.receive_claim(subject(min(k for k in open_now
                                                   if k.startswith("claim_outstanding:"))))
            for name, ledger in ledgers.items():
                settings = settings_for(practice, f"sqlite:///{ledger}",
                                        port=proxy.port if name == "slow" else None)
                engine = open_ledger(settings.ledger.url)
                try:
                    started = time.perf_counter()
                    result = cycle_source(engine, settings, mappings, "main")
                    seconds[name].append(time.perf_counter() - started)
                finally:
                    engine.dispose()
                outcomes.append(result.run.outcome)
                if name == "slow":
                    statements.append(result.run.statements)
    finally:
        proxy.close()
    direct, slow = (ledger_contents(ledgers[name]) for name in ("direct", "slow"))
    different = sorted(table for table in direct if direct[table] != slow[table])

    reliability.record(
        f"fault: slow network, {latency * 1000:.0f} ms each way", runs=2,
        failures=len(different) + sum(outcome != "ok" for outcome in outcomes),
        figure=f"full cycle {seconds['slow'][0]:.1f} s ({seconds['direct'][0]:.1f} s direct), "
               f"incremental {seconds['slow'][1]:.1f} s ({seconds['direct'][1]:.1f} s); "
               f"{sum(statements)} statements; ledgers identical: {not different}")
    assert outcomes == ["ok"] * 4, outcomes
    assert not different, f"tables that differ: {different}"
    assert direct["items"] and direct["item_events"]
    for took, count in zip(seconds["slow"], statements, strict=True):   # latency was real
        assert took > count * 2 * latency * 0.9


# d. The ledger's disk full --------------------------------------------------------------------

DISK_SIZE = "12m"
"""Room for the practice's ledger (about 3 MB with its WAL), its logs and queue files."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, small filesystem (tmpfs) to fill up. Mounting needs root (or CAP_SYS_ADMIN)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        unavailable("mounting a small tmpfs to fill needs root and mount(8)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700",
                              "tmpfs", str(folder)], capture_output=True, text=True,
                             check=False)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the filesystem to its last byte, then give `leave` bytes back."""
    filler = disk / "filler"
    block = b"\0" * 65536
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                if os.write(descriptor, block) == 0:
                    break
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(descriptor)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def test_a_full_ledger_disk_is_said_clearly_corrupts_nothing_and_recovers_once_freed(
        practice: Practice, small_disk: Path, tmp_path: Path, sites: list[Site],
        reliability: Summary) -> None:
    """The ledger, its logs and the queue files on a 12 MB tmpfs (one data disk, as a small
    server has). After the first sync the disk is filled to 256 KB of its end, and the front
    desk changes enough (a fee update on every procedure, a booking) that the next cycle's
    writes do not fit. The run must say so on its record when it can, and on the console
    (journal) in one line; no traceback, nothing resolved, the SQLite file sound. Once the
    filler is deleted, the next cycle syncs everything and resolves what it should."""
    site = Site(tmp_path, small_disk, practice.server.host, practice.server.port, practice)
    sites.append(site)
    site.start()
    first = site.first_run()
    before = site.items()
    booked = min(k for k in site.open_items() if k.startswith("unscheduled_treatment:"))

    filler = fill(small_disk, leave=256 * 1024)
    practice.schedule(subject(booked))
    practice.execute("UPDATE procedurelog SET ProcFee = ProcFee + 5")
    filled_at = time.monotonic()

    def met_the_full_disk() -> bool:
        said = site.stderr()
        return ("ledger_unwritable" in said or "job_failed" in said
                or any(r.run_id > first.run_id for r in site.finished_runs()))

    while not met_the_full_disk() and time.monotonic() - filled_at < INTERVAL + 30:
        time.sleep(0.5)
    time.sleep(2)                                      # the cycle's last lines
    while_full = [r for r in site.finished_runs() if r.run_id > first.run_id]
    changed_while_full = changed(before, site.items())
    integrity_while_full = site.integrity()
    alive = site.alive()
    filler.unlink()
    freed_at = time.monotonic()
    recovered = site.next_run(max([first.run_id, *(r.run_id for r in while_full)]),
                              timeout=INTERVAL + 30)
    recovery = time.monotonic() - freed_at
    after = site.items()
    reference = reference_open_items(practice, tmp_path / "reference")
    code = site.stop()
    stderr = site.stderr()
    lines = [line for line in stderr.splitlines() if line.strip()]
    said_once = "reason=\"the ledger's disk is full (SQLITE_FULL)\"" in stderr
    spew = "Traceback" in stderr or "Logging error" in stderr or len(lines) > 8
    unclear = [r for r in while_full if (r.outcome, r.error_class) != ("failed", "LedgerError")
               or "the ledger's disk is full (SQLITE_FULL)" not in (r.error_detail or "")]

    recorded = (f"run recorded {while_full[0].outcome} ({while_full[0].error_class})"
                if while_full else "no run recorded (the ledger was full before one began)")
    reliability.record(
        "fault: ledger disk full (tmpfs)", runs=len(site.finished_runs()),
        failures=len(changed_while_full) + (integrity_while_full != [("ok",)]) + len(unclear)
        + (not said_once) + spew + (not alive) + (recovered is None),
        figure=f"{recorded}, {len(lines)} console lines, {len(changed_while_full)} items "
               f"changed while full, integrity {integrity_while_full[0][0]}; "
               + (f"recovered {recovery:.0f} s after freeing" if recovered else
                  "did not recover"))

    assert alive, f"the daemon exited on the full disk:\n{stderr[-3000:]}"
    assert not changed_while_full, changed_while_full
    assert integrity_while_full == [("ok",)]
    assert not unclear, unclear
    assert said_once, f"the console does not say the disk is full:\n{stderr[-3000:]}"
    assert not spew, stderr[-3000:]            # a line or two per failed cycle, no trace
    assert recovered is not None, f"no ok run after freeing the disk:\n{stderr[-3000:]}"
    assert after[booked] == ("resolved", "scheduled")
    assert {k for k, (status, _) in after.items() if status == "open"} == reference
    assert code == 0, stderr[-3000:]
    assert site.integrity() == [("ok",)]


def test_a_log_file_on_a_full_disk_is_reported_once_not_with_a_traceback_per_line(
        small_disk: Path, capsys: pytest.CaptureFixture[str], reliability: Summary) -> None:
    """The daemon's JSON log file on a disk that fills up: one line on stderr saying so, the
    lines dropped meanwhile, and once there is room again the file is written again with
    every line whole (JSON)."""
    import structlog

    from tc_sync.config.observability import LoggingSettings

    log_file = small_disk / "logs" / "tc-sync.log"
    try:
        logs.log_to_file(log_file, LoggingSettings())
        log = structlog.get_logger("tc_sync.test")
        log.info("before_full", count=1)
        filler = fill(small_disk)
        for attempt in range(200):                  # more than a page of lines
            log.info("while_full", attempt=attempt)
        full_err = capsys.readouterr().err
        filler.unlink()
        log.info("after_freed", count=2)
        freed_err = capsys.readouterr().err
    finally:
        observed.reset()
    events = observed.json_lines(log_file.parent)        # every line must be JSON
    names = [event["event"] for event in events]

    reliability.record(
        "fault: log file on a full disk", runs=200,
        failures=full_err.count("Traceback") + full_err.count("Logging error"),
        figure=f"{full_err.count('cannot write the log file')} stderr line while full, "
               f"{names.count('while_full')} of 200 lines kept, file valid JSON after")
    assert full_err.count("cannot write the log file") == 1, full_err[-2000:]
    assert "Traceback" not in full_err and "Logging error" not in full_err
    assert "No space left on device" in full_err
    assert "is written again" in freed_err
    assert names[0] == "before_full" and names[-1] == "after_freed"


# e. The Open Dental API refusing for a while ---------------------------------------------------

TREATMENT_LIST, CLAIMS_LIST = 11, 13
RETRY_AFTER = 5


@dataclass
class FlakyApi(StandIn):
    """The API stand-in with a switch: `mode` "429" answers every request 429 with a
    Retry-After, "500" answers every request 500 (half the task creations are made first, as
    when the server fails after its commit), "ok" answers normally."""

    mode: str = "ok"
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    made_then_failed: int = 0
    _flip: bool = False

    def _fault_for(self, method: str) -> Fault | None:
        with self.lock:
            self.counts[(self.mode, method)] += 1
            if self.mode == "429":
                return Fault(method, 429, retry_after=RETRY_AFTER)
            if self.mode == "500":
                self._flip = not self._flip
                if method == "POST" and self._flip:
                    self.made_then_failed += 1
                    return Fault(method, 500, after_commit=True)
                return Fault(method, 500)
        return super()._fault_for(method)


@pytest.fixture
def flaky_api(practice: Practice) -> Iterator[tuple[FlakyApi, str]]:
    """The stand-in serving the practice's Open Dental task tables, and its base URL."""
    with practice.connection() as connection:
        create_task_tables(connection)
        add_task_lists(connection, [(TREATMENT_LIST, "Treatment coordinator", 0),
                                    (CLAIMS_LIST, "Claims", 0)])
    server = practice.server
    api = FlakyApi(server.host, server.port, server.user, server.password, practice.database)
    with contextlib.contextmanager(serve)(api) as running:
        yield api, running.base_url


def test_the_open_dental_api_refusing_for_a_while_sends_each_task_once_when_it_recovers(
        practice: Practice, flaky_api: tuple[FlakyApi, str], tmp_path: Path,
        sites: list[Site], reliability: Summary) -> None:
    """The daemon starts while the API answers 429 (Retry-After: 5) for
    `TC_SYNC_FAULT_API_429_SECONDS` (default 20 s), then 500 for `TC_SYNC_FAULT_API_500_SECONDS`
    (default 20 s; half the creations are made before the 500, so tc-sync cannot know), then
    normally. The push job runs every 5 s throughout. Every follow-up owed gets exactly one
    task, none is a dead letter, and 429's Retry-After is honoured."""
    seconds_429 = env_seconds("TC_SYNC_FAULT_API_429_SECONDS", 20)
    seconds_500 = env_seconds("TC_SYNC_FAULT_API_500_SECONDS", 20)
    api, base_url = flaky_api
    api.mode = "429"
    mappings_file = tmp_path / "site-mappings.yaml"
    mappings_file.write_text(yaml.safe_dump({"tasks": {
        "kinds": ["unscheduled_treatment", "claim_outstanding"], "backfill": True,
        "creator_user": 1,
        "lists": [{"kinds": ["claim_outstanding"], "task_list": CLAIMS_LIST},
                  {"task_list": TREATMENT_LIST}]}}))
    server = practice.server
    site = Site(tmp_path, tmp_path / "data", server.host, server.port, practice, extra={
        "mappings_file": str(mappings_file),
        "push": {"interval_seconds": 5, "first_retry_seconds": 2, "max_retry_seconds": 30,
                 "targets": {"od-api": {
                     "kind": "opendental_api", "source": "main", "base_url": base_url,
                     "developer_key": "dev-key", "customer_key": "cust-key",
                     "timeout_seconds": 5}}}})
    sites.append(site)
    site.start()
    started = time.monotonic()
    site.first_run()
    for mode, until in (("500", seconds_429), ("ok", seconds_429 + seconds_500)):
        while time.monotonic() - started < until and site.alive():
            time.sleep(0.5)
        api.mode = mode
    alive = site.alive()
    recovered_at = time.monotonic()

    def creates() -> list[tuple[str, str, int]]:
        return read(site.ledger, "SELECT idempotency_key, status, attempts FROM outbox "
                                 "WHERE action = 'create_task'")

    while time.monotonic() - recovered_at < 90 and site.alive() and (not creates() or any(
            status not in ("sent", "dead") for _, status, _ in creates())):
        time.sleep(0.5)
    all_sent = time.monotonic() - recovered_at
    actions = creates()
    tasks = api.tasks()
    code = site.stop()
    stderr = site.stderr()
    markers = Counter(task["Descript"].rsplit("[", 1)[1].rstrip("]") for task in tasks)
    expected = Counter(marker_of(key) for key, _, _ in actions)
    found = sum(int(event.get("found", 0)) for event in site.log_events()
                if event.get("event") == "push_pass")
    requests_429 = sum(n for (mode, _), n in api.counts.items() if mode == "429")
    twice = sum(n - 1 for n in markers.values() if n > 1)
    dead = sum(status == "dead" for _, status, _ in actions)
    unsent = sum(status != "sent" for _, status, _ in actions)

    reliability.record(
        f"fault: Open Dental API 429 {seconds_429:.0f} s then 500 {seconds_500:.0f} s",
        runs=len(actions), failures=twice + unsent + len(expected - markers) + (not alive),
        figure=f"{len(tasks)} tasks for {len(actions)} follow-ups, {twice} sent twice, "
               f"{api.made_then_failed} made-then-500 found by marker ({found} lookups "
               f"found), {requests_429} requests in {seconds_429:.0f} s of 429; all sent "
               f"{all_sent:.0f} s after recovery")

    assert alive, f"the daemon exited while the API failed:\n{stderr[-3000:]}"
    assert len(actions) > 50
    assert dead == 0 and unsent == 0
    assert markers == expected, "a task missing or made twice"
    assert found == api.made_then_failed > 0
    assert requests_429 <= seconds_429 / RETRY_AFTER + 3, "Retry-After was not honoured"
    assert api.counts[("500", "POST")] > 0 and api.counts[("ok", "POST")] > 0
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
