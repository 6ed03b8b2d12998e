"""The daemon: jobs from configuration, quiet windows, one daemon per ledger, graceful stop."""

from __future__ import annotations

import platform
import signal
import subprocess
import sys
import time
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.config.quiet import in_quiet_window
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import sync_runs
from tc_sync.queues.build import QueueBuild
from tc_sync.runtime.daemon import Daemon
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock


def settings(tmp_path, **schedule):
    return settings_from_mapping({
        "timezone": "America/Chicago",
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "sources": {
            "main": {"kind": "opendental", "schedule": {"interval_seconds": 120, **schedule}},
            "north": {"kind": "opendental", "schedule": {"full_sweep_at": "03:30"}},
            "old": {"kind": "opendental", "enabled": False},
        }})


def test_jobs_are_built_from_the_configuration_with_stable_ids(tmp_path):
    config = settings(tmp_path)
    engine = open_ledger(config.ledger.url)
    daemon = Daemon(engine, config, MappingsKeeper())
    start = datetime(2026, 11, 26, 14, 0, tzinfo=ZoneInfo("America/Chicago"))
    daemon.build_jobs(start)
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert sorted(jobs) == ["cycle:main", "cycle:north", "health", "hints:main", "hints:north",
                            "prune", "sweep:main", "sweep:north"]
    assert jobs["hints:main"].trigger.interval.total_seconds() == 15   # Open Dental logs edits
    assert "hour='3', minute='30'" in str(jobs["prune"].trigger)   # daily, retention.at
    assert jobs["cycle:main"].trigger.interval.total_seconds() == 120
    assert jobs["cycle:north"].trigger.interval.total_seconds() == 300
    assert jobs["cycle:main"].next_run_time == start             # catch-up at start
    sweep = jobs["sweep:north"].trigger.get_next_fire_time(None, start)
    assert (sweep.hour, sweep.minute, str(sweep.tzinfo)) == (3, 30, "America/Chicago")
    assert sweep.date() == start.date().replace(day=27)
    engine.dispose()


def test_no_hint_job_for_a_pms_without_hints_or_when_turned_off(tmp_path):
    config = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "sources": {"od": {"kind": "opendental", "schedule": {"hint_seconds": 0}},
                    "dx": {"kind": "dentrix", "connection": {
                        "driver": "odbc", "odbc": {"dsn": "Dentrix"}}}}})
    engine = open_ledger(config.ledger.url)
    daemon = Daemon(engine, config, MappingsKeeper())
    daemon.build_jobs()
    assert not [job.id for job in daemon.scheduler.get_jobs() if job.id.startswith("hints:")]
    engine.dispose()


@pytest.mark.parametrize(("now", "quiet"), [
    (clock(1, 30), True), (clock(3, 0), False), (clock(23, 15), True), (clock(12, 0), False)])
def test_quiet_windows_including_one_past_midnight(now, quiet):
    assert in_quiet_window(now, ["01:00-03:00", "23:00-00:30"]) is quiet


def test_a_quiet_window_in_the_configuration_must_be_a_time_range(tmp_path):
    from tc_sync.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, quiet_windows=["1am-3am"])
    assert "not a window like 01:00-03:00" in str(caught.value)


def test_one_daemon_per_sqlite_ledger(tmp_path):
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    with DaemonLock(engine, ["main"]), pytest.raises(AlreadyRunning, match="another tc-sync"):
        DaemonLock(engine, ["main"]).acquire()
    with DaemonLock(engine, ["main"]):               # free again once released
        pass
    engine.dispose()


@pytest.mark.postgres
def test_daemons_of_a_group_share_a_postgres_ledger_but_never_a_source(postgres_url):
    first, second = open_ledger(postgres_url), open_ledger(postgres_url)
    with DaemonLock(first, ["downtown"]):
        with DaemonLock(second, ["uptown"]):         # another practice: fine
            pass
        with pytest.raises(AlreadyRunning, match="'downtown'"):
            DaemonLock(second, ["uptown", "downtown"]).acquire()
    first.dispose()
    second.dispose()


def demo_daemon(tmp_path: Path) -> tuple[Path, str, subprocess.Popen[str]]:
    """The demo practice made, and `tc-sync run` started on it: its folder, configuration and
    process."""
    demo = tmp_path / "demo"
    built = subprocess.run([sys.executable, "-m", "tc_sync", "demo", "--dir", str(demo)],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    config = str(demo / "tc-sync.yaml")
    return demo, config, subprocess.Popen(
        [sys.executable, "-m", "tc_sync", "--config", config, "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_daemon_catches_up_at_start_and_stops_cleanly_on_sigterm(tmp_path):
    demo, config, daemon = demo_daemon(tmp_path)
    try:
        engine = open_ledger(f"sqlite:///{demo / 'ledger.db'}")
        deadline = time.monotonic() + 30
        runs = 1
        while runs < 2 and time.monotonic() < deadline:     # the demo made run 1
            time.sleep(0.3)
            with engine.connect() as connection:
                runs = connection.scalar(sa.select(sa.func.count()).select_from(sync_runs).where(
                    sync_runs.c.outcome != "running"))
        assert runs == 2, "the daemon did not sync at start-up"
        second = subprocess.run([sys.executable, "-m", "tc_sync", "--config", config, "run"],
                                capture_output=True, text=True, check=False, timeout=30)
        assert second.returncode == 1 and "another tc-sync daemon" in second.stderr
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=15)
        assert daemon.returncode == 0
        assert "tc-sync: stopped" in out
        engine.dispose()
    finally:
        if daemon.poll() is None:
            daemon.kill()


def test_a_stop_asked_for_while_the_daemon_starts_is_a_clean_stop(tmp_path):
    _, _, daemon = demo_daemon(tmp_path)
    try:
        assert daemon.stdout is not None
        line = daemon.stdout.readline()
        while line and not line.startswith("tc-sync: running"):   # the sources are now its own
            line = daemon.stdout.readline()
        daemon.send_signal(signal.SIGTERM)     # as systemd does when a start is cancelled
        out, err = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, err
        assert "tc-sync: stopped" in out
    finally:
        if daemon.poll() is None:
            daemon.kill()


def test_queue_files_owed_by_looks_wait_ten_times_as_long_as_a_build_takes(tmp_path):
    config = settings(tmp_path)
    engine = open_ledger(config.ledger.url)
    daemon = Daemon(engine, config, MappingsKeeper())
    assert daemon._queues_due()                         # never built: at once
    daemon._build_seconds.extend([9.4])
    daemon._last_build_at = time.monotonic() - 60
    assert not daemon._queues_due()                     # 60 s < 94 s: a large practice waits
    daemon._last_build_at -= 40
    assert daemon._queues_due()
    daemon._build_seconds.clear()
    daemon._build_seconds.extend([5.0, 5.2, 13.0])      # the last, after a scan, took 13 s
    daemon._last_build_at = time.monotonic() - 45
    assert not daemon._queues_due()
    daemon._last_build_at -= 15
    assert daemon._queues_due()                         # the median, 5.2 s, sets the pace
    daemon._build_seconds.clear()
    daemon._build_seconds.extend([0.4, 0.4, 0.5])
    daemon._last_build_at = time.monotonic() - 25
    assert not daemon._queues_due()                     # a small one: queues.every_seconds
    daemon._last_build_at -= 5
    assert daemon._queues_due()
    # A build that read every row (the first, a new day's) does not set the pace; the wait
    # counts from when a build began, so a look every 15 s builds every 30 s, not every 45.
    daemon._build_seconds.clear()
    daemon._queues_built(QueueBuild(tmp_path, seconds=2.0), None)
    daemon._queues_built(QueueBuild(tmp_path, seconds=16.0, whole=True), None)
    assert list(daemon._build_seconds) == [2.0]
    daemon._last_build_at += 16.0 - 30.0        # that build began 30 s ago
    assert daemon._queues_due()
    engine.dispose()


def test_after_a_build_that_read_every_row_the_collector_leaves_what_lives_alone(tmp_path):
    """The queue rows kept between builds made every full collection ~0.4 s at 60,000
    patients: a build that read them all settles them out of later collections, after
    collecting any garbage cycle first."""
    import gc
    import weakref

    class Node:
        pass

    config = settings(tmp_path)
    engine = open_ledger(config.ledger.url)
    daemon = Daemon(engine, config, MappingsKeeper())
    gc.unfreeze()           # as an earlier test's daemon may have left it
    gc.disable()            # only the daemon collects, while the test looks
    try:
        cycle = Node()
        cycle.me = cycle    # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle
        daemon._queues_built(QueueBuild(tmp_path, seconds=2.0), None)
        assert gc.get_freeze_count() == 0 and gone() is not None   # not every build
        daemon._queues_built(QueueBuild(tmp_path, seconds=16.0, whole=True), None)
        assert gone() is None and gc.get_freeze_count() > 1000
    finally:
        gc.enable()
        gc.unfreeze()
        engine.dispose()


def test_the_daemon_loads_no_charting_library_until_a_report_is_made():
    # matplotlib and numpy weigh ~50 MB of resident memory (issue 17): only a report needs them
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tc_sync.cli, tc_sync.commands.run; "
         "print(sorted({'matplotlib', 'numpy', 'PIL', 'openpyxl'} & set(sys.modules)))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_memory_is_given_back_between_stages_wherever_tc_sync_runs():
    from tc_sync.memory import share_one_arena, trim

    on_glibc = platform.libc_ver()[0] == "glibc"
    assert share_one_arena() is on_glibc          # False off glibc (Windows, Alpine)
    trim()                                        # never raises, whatever the C library
