"""`tc-sync run`: the scheduler daemon.

Jobs are built from the configuration with stable ids: per source, an incremental cycle every
`interval_seconds` (the first at start-up: catch-up after the server was off), a look at its
change hints every `hint_seconds` in between (`cycle.hinted_cycle`) and a full sweep each night
at `full_sweep_at`, in the practice's time zone. One source's jobs never run at the
same time (a per-source lock); sources run side by side, so one source down stops no other.
A stop request (SIGTERM, SIGINT, a Windows service stop) lets each running cycle commit its
batch in flight and end; the daemon exits within `stop_timeout` seconds.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import AdapterError
from tc_sync.config import ScheduleSettings, Settings
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.config.quiet import in_quiet_window
from tc_sync.cycle import cycle_source, hinted_cycle
from tc_sync.ledger.db import LedgerError, ledger_write_problem, release_idle_connections
from tc_sync.ledger.retention import prune
from tc_sync.ledger.state import close_interrupted_runs
from tc_sync.memory import settle, trim
from tc_sync.observability.group_health import group_answer
from tc_sync.observability.healthwatch import HealthCallback, HealthWatch
from tc_sync.observability.http import HealthReport, StatusServer, health_report, port_problem
from tc_sync.observability.jobs import observe_job
from tc_sync.observability.metrics import Metrics
from tc_sync.pull.progress import LogProgress
from tc_sync.push.dispatcher import Dispatcher
from tc_sync.queues.build import QueueBuild, rebuild_or_explain
from tc_sync.queues.record import record_queue_build
from tc_sync.runtime.reports import add_report_jobs

log = structlog.get_logger(__name__)

BUILDS_TIMED = 5
"""Queue builds whose durations space the next (their median, times ten)."""
LOOK_WAIT_SECONDS = 120
"""How long a scan waits for a look at the change hints to end (a look that re-reads a burst,
or reconciles the day's first full evaluation, may take a while; it never retries a PMS that
is down)."""
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


class Daemon:
    """Schedules every source's cycles and sweeps until asked to stop."""

    def __init__(self, engine: sa.Engine, settings: Settings, mappings: MappingsKeeper, *,
                 on_health_change: HealthCallback | None = None,
                 metrics: Metrics | None = None, group: Settings | None = None,
                 stop: threading.Event | None = None) -> None:
        """`on_health_change` is called (on a scheduler thread) when a source's colour moves;
        `group` is the whole configuration (before `--source`), whose practices /group shows;
        `stop` is an event a stop signal caught before the daemon existed may already have set."""
        self.engine = engine
        self.settings = settings
        self.group = group or settings
        self.mappings = mappings
        self.metrics = metrics or Metrics(engine, settings)
        self.health = HealthWatch(engine, settings, on_health_change)
        self.queue_problem: str | None = None
        """Why the last queue build wrote nothing (turns every source amber), or None."""
        self._queues_owed = False
        """Hinted cycles moved items since the queue files were last written."""
        self._last_build_at = float("-inf")
        self._build_seconds: deque[float] = deque(maxlen=BUILDS_TIMED)
        """How long the last few queue builds took."""
        self.health.problems = self.problems
        self._pushing = threading.Lock()
        self.progress = LogProgress()
        self.status_server: StatusServer | None = None
        self.dispatcher = (Dispatcher(engine, settings)
                           if settings.push.enabled and settings.push.targets else None)
        self.zone = ZoneInfo(settings.timezone)
        self.stop = stop or threading.Event()
        self._source_locks = {source_id: threading.Lock() for source_id in settings.sources}
        self._looking: set[str] = set()
        """Sources whose lock a look at the change hints holds (a scan waits for it)."""
        self._scanned: set[str] = set()
        """Sources scanned since the daemon started: the first scan walks every table."""
        self.scheduler = BackgroundScheduler(
            timezone=self.zone, job_defaults=JOB_DEFAULTS,
            executors={"default": {"type": "threadpool",
                                   "max_workers": len(settings.sources) * 2 + 4}})

    def build_jobs(self, now: datetime | None = None) -> None:
        """Add each enabled source's cycle and sweep jobs (ids `cycle:<id>`, `sweep:<id>`)."""
        start = now or datetime.now(self.zone)
        for source_id, source in self.settings.sources.items():
            if not source.enabled:
                continue
            hour, minute = (int(part) for part in source.schedule.full_sweep_at.split(":"))
            self.scheduler.add_job(
                self.run_job, IntervalTrigger(seconds=source.schedule.interval_seconds,
                                              timezone=self.zone),
                args=[source_id, False], id=f"cycle:{source_id}", replace_existing=True,
                next_run_time=start)
            self.scheduler.add_job(
                self.run_job, CronTrigger(hour=hour, minute=minute, timezone=self.zone),
                args=[source_id, True], id=f"sweep:{source_id}", replace_existing=True)
            if source.schedule.hint_seconds and self._gives_hints(source_id):
                self.scheduler.add_job(
                    self.run_hints, IntervalTrigger(seconds=source.schedule.hint_seconds,
                                                    timezone=self.zone),
                    args=[source_id], id=f"hints:{source_id}", replace_existing=True,
                    next_run_time=start + timedelta(seconds=source.schedule.hint_seconds))
        self.scheduler.add_job(self.check_health, IntervalTrigger(seconds=60, timezone=self.zone),
                               id="health", replace_existing=True)
        hour, minute = (int(part) for part in self.settings.retention.at.split(":"))
        self.scheduler.add_job(self.prune, CronTrigger(hour=hour, minute=minute, jitter=900,
                                                       timezone=self.zone),
                               id="prune", replace_existing=True)
        add_report_jobs(self.scheduler, self.engine, self.settings)  # digest, report:weekly/monthly
        if self.dispatcher is not None:
            self.scheduler.add_job(
                self.push, IntervalTrigger(seconds=self.settings.push.interval_seconds,
                                           timezone=self.zone),
                id="push", replace_existing=True, next_run_time=start)

    def _gives_hints(self, source_id: str) -> bool:
        """Whether the source's adapter names changed patients (an adapter that cannot be
        loaded gives none: its cycle says why)."""
        source = self.settings.sources[source_id]
        try:
            adapter = load_adapter(source.kind, self.settings.adapters_dir, source.overrides)
        except AdapterError:
            return False
        return adapter.manifest.hints is not None

    def push(self) -> None:
        """Deliver due tasks and alerts (the outbox); a failure is logged, never raised."""
        if self.dispatcher is None or self.stop.is_set():
            return
        if not self._pushing.acquire(blocking=False):
            return                  # the push job or another cycle is delivering already
        try:
            self.dispatcher.run_once(self.stop)
        except Exception as error:  # the ledger away for a moment: the next run tries again
            log.error("push_failed_to_run", error_class=type(error).__name__)
        finally:
            self._pushing.release()

    def run_job(self, source_id: str, full: bool) -> None:
        """One cycle (or sweep) of one source, unless stopping, quiet, or already running."""
        if self.stop.is_set():
            return
        job = "sweep" if full else "cycle"
        with observe_job(self.metrics, self.settings, source_id, job) as observed:
            schedule = self.settings.sources[source_id].schedule
            if in_quiet_window(datetime.now(self.zone).time(), schedule.quiet_windows):
                log.info("quiet_window", source=source_id, job=job)
                observed.skipped("quiet_window")
                return
            lock = self._source_locks[source_id]
            if not (lock.acquire(blocking=False) or (   # a look is short: the scan waits
                    source_id in self._looking and lock.acquire(timeout=LOOK_WAIT_SECONDS))):
                log.info("still_running", source=source_id, job=job)
                observed.skipped("still_running")
                return
            try:
                mappings = self.mappings.reload()
                if self.mappings.last_problem:
                    log.error("mappings_rejected_keeping_last_good", source=source_id)
                result = cycle_source(self.engine, self.settings, mappings, source_id,
                                      full=full, stop=self.stop, queues=True,
                                      push=self.push if self.dispatcher else None,
                                      progress=self.progress,   # the queues: never raise
                                      hinted_every=_hinted_every(schedule)
                                      if source_id in self._scanned else None)
                self._scanned.add(source_id)
                observed.ran(result.run.outcome, rows_read=result.run.rows_read,
                             quarantined=result.run.rows_quarantined)
                self._queues_built(result.queues, result.queue_problem)
            except Exception as error:  # one source's failure must not take the daemon down
                _job_failed(source_id, job, error)
            finally:
                lock.release()

    def run_hints(self, source_id: str) -> None:
        """Between scans: re-read the patients the source's change hints name. Quietly does
        nothing while stopping, in a quiet window, or while the source's cycle runs."""
        schedule = self.settings.sources[source_id].schedule
        if self.stop.is_set() or in_quiet_window(datetime.now(self.zone).time(),
                                                 schedule.quiet_windows):
            return
        lock = self._source_locks[source_id]
        if not lock.acquire(blocking=False):
            return
        self._looking.add(source_id)
        try:
            moved = hinted_cycle(self.engine, self.settings, self.mappings.reload(), source_id,
                                 stop=self.stop, push=self.push if self.dispatcher else None)
            if moved is not None:       # hinted (or, after a bulk change, scanned) rows
                self._queues_owed = True
            if self._queues_owed and self._queues_due():
                self.build_queues(source_id)
        except Exception as error:  # the next look, or the next scan, tries again
            _job_failed(source_id, "hints", error)
        finally:
            self._looking.discard(source_id)
            lock.release()

    def _queues_due(self) -> bool:
        """Whether the queue files may be rewritten now: `queues.every_seconds` since the
        last build began, and ten times as long as a build takes (the median of the last few
        that did not read every row: the one after a scan, which makes again what the scan's
        plan moved, is no guide)."""
        typical = median(self._build_seconds) if self._build_seconds else 0.0
        wait = max(self.settings.queues.every_seconds, 10 * typical)
        return time.monotonic() - self._last_build_at >= wait

    def build_queues(self, source_id: str) -> None:
        """Rewrite the queue files now (after hinted cycles moved items); never raises."""
        build, problem = rebuild_or_explain(self.engine, self.settings, source_id)
        record_queue_build(self.engine, [source_id], build, problem)
        self._queues_built(build, problem)
        release_idle_connections(self.engine)   # the build's caches go back, as after a scan
        trim()

    def _queues_built(self, build: QueueBuild | None, problem: str | None) -> None:
        self.queue_problem = problem
        self._queues_owed = False
        seconds = build.seconds if build is not None else 0.0
        self._last_build_at = time.monotonic() - seconds      # when it began
        if build is None or not build.whole:    # a build that read every row (the first,
            self._build_seconds.append(seconds)  # hourly, a new day's) is no guide either
        if build is not None and build.whole:
            settle()    # the rows it read live until the next such build

    def prune(self) -> None:
        """Delete run history and outbox rows past the retention horizon; logs, never raises."""
        retention = self.settings.retention
        sources = [source_id for source_id, source in self.settings.sources.items()
                   if source.enabled]
        started = time.perf_counter()
        try:
            pruned = prune(self.engine, sources, runs_days=retention.runs_days,
                           outbox_days=retention.outbox_days,
                           unchanged_runs_days=retention.unchanged_runs_days,
                           batch_rows=retention.batch_rows,
                           stop=self.stop)
        except sa.exc.SQLAlchemyError as error:   # the ledger away: tomorrow's run catches up
            log.warning("prune_failed", error_class=type(error).__name__)
            return
        log.info("runs_pruned", count=pruned.runs)
        log.info("outbox_pruned", count=pruned.outbox, statements=pruned.batches,
                 seconds=round(time.perf_counter() - started, 3))

    def check_health(self, now: datetime | None = None) -> None:
        """Log (and hand to `on_health_change`) each change of a source's colour."""
        try:
            self.health.check(now)
        except sa.exc.SQLAlchemyError as error:
            log.warning("health_check_failed", error_class=type(error).__name__)

    def problems(self) -> dict[str, str]:
        """What is wrong outside the ledger, by source: a queue build that wrote nothing."""
        if self.queue_problem is None:
            return {}
        return dict.fromkeys(self.settings.sources, self.queue_problem)

    def healthz(self) -> HealthReport:
        """The /healthz answer: 200 while running with no red source, else 503."""
        running = self.scheduler.running and not self.stop.is_set()
        return health_report(self.engine, self.settings, running, problems=self.problems())

    def _start_status_server(self) -> None:
        http = self.settings.http
        if not http.enabled:
            return
        server = StatusServer(http.host, http.port, self.healthz, self.metrics,
                              group=partial(group_answer, self.engine, self.group))
        try:
            server.start()
        except OSError as error:   # syncing matters more than the status page: keep going
            log.error("http_unavailable", host=http.host, port=http.port,
                      error_class=type(error).__name__, error_code=error.errno,
                      reason=port_problem(http.host, http.port, error))
            return
        self.status_server = server

    def request_stop(self, *_: Any) -> None:
        """Ask running cycles to end after their batch in flight, and the daemon to exit."""
        log.info("stop_requested")
        self.stop.set()

    def run(self, install_signals: bool = True,
            until: Callable[[], bool] | None = None) -> None:
        """Run until a stop is requested (or `until()` says so); returns when stopped."""
        if install_signals:
            stop_on_signals(self.stop)
        if self.stop.is_set():      # asked to stop while starting: nothing was scheduled yet
            log.info("daemon_stopped")
            return
        with self.engine.begin() as connection:  # what a killed daemon left behind
            interrupted = close_interrupted_runs(connection, [
                source_id for source_id, source in self.settings.sources.items()
                if source.enabled])  # a disabled source is not ours: it is not locked
        if interrupted:
            log.warning("interrupted_runs_closed", count=interrupted)
        if self.dispatcher is not None:
            self.dispatcher.recover_at_start()
        self.build_jobs()
        self.scheduler.start()
        self._start_status_server()
        log.info("daemon_started", sources=list(self.settings.sources),
                 jobs=[job.id for job in self.scheduler.get_jobs()])
        while not self.stop.wait(0.5):
            if until is not None and until():
                self.stop.set()
        self.scheduler.shutdown(wait=True)
        if self.status_server is not None:
            self.status_server.stop()
        if self.dispatcher is not None:
            self.dispatcher.close()
        log.info("daemon_stopped")


def _hinted_every(schedule: ScheduleSettings) -> timedelta | None:
    """How often a scan walks the tables the change hints re-read (None: every scan)."""
    if not (schedule.hint_seconds and schedule.hinted_scan_seconds):
        return None
    return timedelta(seconds=schedule.hinted_scan_seconds)


def stop_on_signals(stop: threading.Event) -> None:
    """Set `stop` on SIGTERM, SIGINT and (Windows) SIGBREAK instead of dying at once."""
    def requested(*_: Any) -> None:
        log.info("stop_requested")
        stop.set()

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), requested)


def _job_failed(source_id: str, job: str, error: Exception) -> None:
    """Log a job's failure: a ledger that refuses writes is the machine's to fix (say what,
    not where); anything else with its traceback."""
    problem = str(error) if isinstance(error, LedgerError) else ledger_write_problem(error)
    if problem is not None:
        log.error("ledger_unwritable", source=source_id, job=job, reason=problem)
    else:
        log.exception("job_failed", source=source_id, job=job, error_class=type(error).__name__)
