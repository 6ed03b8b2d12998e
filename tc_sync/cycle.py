"""One cycle, the same for `sync --once`, `demo` and the daemon: pull, reconcile, push, queues.

Per source, the PMS is pulled into the ledger and its coordination items reconciled; then the
outbox is delivered (tasks and alerts, when push targets are configured) and the work queues
are rewritten (only the files whose content changed). Each stage's outcome is named in the
cycle's result and in the `cycle_finished` log event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from threading import Event

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.config.mappings import Mappings
from tc_sync.items.reconcile import ReconcileTotals, reconcile_source
from tc_sync.ledger.db import release_idle_connections
from tc_sync.ledger.state import read_whole
from tc_sync.memory import trim
from tc_sync.pull.hints import sync_hinted
from tc_sync.pull.progress import Progress
from tc_sync.pull.run import RunResult, sync_source
from tc_sync.queues.build import QueueBuild, rebuild_or_explain
from tc_sync.queues.record import record_queue_build

log = structlog.get_logger(__name__)

STAGES = ("pull", "reconcile", "push", "queues")
Pusher = Callable[[], None]
"""Delivers the outbox once; logs its own failures and never raises."""


@dataclass
class CycleResult:
    """A source's sync run, the reconcile that followed it, and each stage's outcome."""

    run: RunResult
    items: ReconcileTotals
    stages: dict[str, str] = field(default_factory=dict)
    """pull, reconcile, push, queues: 'ok', 'skipped', 'waiting' (a reconcile left to a later
    run: `_reconcile_waits`), or what went wrong."""
    queues: QueueBuild | None = None
    queue_problem: str | None = None
    run_mode: str = "scan"
    """'scan' (an incremental or full pull) or 'hinted' (`hinted_cycle`)."""
    waiting: str | None = None
    """Why the reconcile was left to a later run (`_reconcile_waits`), if it was."""


@dataclass
class CycleRun:
    """Every source's cycle, and the push and queue stages run once after them all."""

    sources: list[CycleResult]
    stages: dict[str, str] = field(default_factory=dict)
    queues: QueueBuild | None = None
    queue_problem: str | None = None

    def __iter__(self) -> Iterator[CycleResult]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


def cycle_source(engine: sa.Engine, settings: Settings, mappings: Mappings, source_id: str,
                 *, full: bool = False, stop: Event | None = None,
                 push: Pusher | None = None, queues: bool = False,
                 progress: Progress | None = None, today: date | None = None,
                 hinted_every: timedelta | None = None) -> CycleResult:
    """Pull one source, reconcile its items (resolving only after a complete run), then, if
    asked, deliver the outbox (`push`) and rewrite the work queues (`queues`). `today` ages
    the items (default: the practice's today; the demo keeps a day of its own).
    `hinted_every`: as in `sync_source` (the daemon's scans)."""
    run = sync_source(engine, source_id, settings.sources[source_id], settings.sync, full=full,
                      adapters_dir=settings.adapters_dir, stop=stop, progress=progress,
                      hinted_every=hinted_every)
    _release(engine)
    waiting = _reconcile_waits(engine, run)
    if waiting is not None:
        return _without_items(engine, settings, run, waiting, push=push, queues=queues,
                              today=today)
    totals = reconcile_source(
        engine, source_id, mappings, today or practice_today(settings),
        complete_run=run.outcome == "ok", run_id=run.run_id, full=full, push=settings.push)
    _release(engine)
    return _deliver(engine, settings, CycleResult(run, totals, {
        "pull": run.outcome, "reconcile": "ok"}), push=push, queues=queues, today=today)


def hinted_cycle(engine: sa.Engine, settings: Settings, mappings: Mappings, source_id: str,
                 *, stop: Event | None = None, push: Pusher | None = None,
                 queues: bool = False, today: date | None = None) -> CycleResult | None:
    """Between incremental scans: the patients the source's change hints name, re-read and
    reconciled, then push and queues as in `cycle_source`. None when the hints name nobody
    (or the PMS gives none); a change too large for hints runs the incremental scan now."""
    found = sync_hinted(engine, source_id, settings.sources[source_id], settings.sync,
                        adapters_dir=settings.adapters_dir, stop=stop)
    if found.overflow:
        return cycle_source(engine, settings, mappings, source_id, stop=stop, push=push,
                            queues=queues, today=today)
    if found.run is None:
        return None
    run = found.run
    waiting = _reconcile_waits(engine, run)
    if waiting is not None:
        return _without_items(engine, settings, run, waiting, push=push, queues=queues,
                              today=today, run_mode="hinted")
    totals = reconcile_source(
        engine, source_id, mappings, today or practice_today(settings),
        complete_run=run.outcome == "ok", run_id=run.run_id, push=settings.push,
        plan=False)                 # the follow-up plan waits for the next scan
    return _deliver(engine, settings, CycleResult(run, totals, {
        "pull": run.outcome, "reconcile": "ok"}, run_mode="hinted"), push=push, queues=queues,
        today=today)


STOPPING = "stopping"
FIRST_SYNC_UNFINISHED = "first_sync_unfinished"


def _reconcile_waits(engine: sa.Engine, run: RunResult) -> str | None:
    """Why the items must wait for a later run, or None to reconcile now. A stopped run means
    the daemon is stopping: the changes stay past the reconcile's watermark, so the next start
    evaluates them. Before any scan has read every stream whole, evaluating would open items
    from half the practice (`state.read_whole`)."""
    if run.outcome == "stopped":
        return STOPPING
    with engine.connect() as connection:    # (a look at the hints can end ok meanwhile)
        if not read_whole(connection, run.source_id):
            return FIRST_SYNC_UNFINISHED
    return None


def _without_items(engine: sa.Engine, settings: Settings, run: RunResult, why: str, *,
                   push: Pusher | None, queues: bool, today: date | None,
                   run_mode: str = "scan") -> CycleResult:
    """A cycle whose reconcile waits (`_reconcile_waits`): stopping, push and queues are
    skipped too; otherwise they go on, on the items as they were."""
    log.info("reconcile_waits", source=run.source_id, run_id=run.run_id, reason=why)
    result = CycleResult(run, ReconcileTotals(), {"pull": run.outcome, "reconcile": "waiting"},
                         run_mode=run_mode, waiting=why)
    stopping = why == STOPPING
    return _deliver(engine, settings, result, push=None if stopping else push,
                    queues=queues and not stopping, today=today)


def _deliver(engine: sa.Engine, settings: Settings, result: CycleResult, *,
             push: Pusher | None, queues: bool, today: date | None) -> CycleResult:
    """A source's push and queue stages, after its pull and reconcile; logs the cycle."""
    source_id = result.run.source_id
    result.stages["push"] = _push_stage(push)
    if queues:
        result.queues, result.queue_problem = rebuild_or_explain(engine, settings, source_id,
                                                                 today=today)
        record_queue_build(engine, [source_id], result.queues, result.queue_problem)
        _release(engine)
    result.stages["queues"] = _queue_outcome(settings, queues, result.queue_problem)
    log.info("cycle_finished", source=source_id, mode=result.run_mode,
             stages=[f"{stage}:{outcome}" for stage, outcome in result.stages.items()])
    return result


def run_cycle(engine: sa.Engine, settings: Settings, mappings: Mappings, *,
              full: bool = False, only_source: str | None = None, stop: Event | None = None,
              push: Pusher | None = None, queues: bool = False,
              progress: Progress | None = None, today: date | None = None) -> CycleRun:
    """Pull and reconcile every enabled source (or just `only_source`), each on its own; then
    deliver the outbox once (`push`) and rewrite the work queues once (`queues`). `today`: as
    in `cycle_source`."""
    cycles = CycleRun([
        cycle_source(engine, settings, mappings, source_id, full=full, stop=stop,
                     progress=progress, today=today)
        for source_id, source in settings.sources.items()
        if (source_id == only_source) or (only_source is None and source.enabled)])
    cycles.stages["push"] = _push_stage(push)
    if queues:
        cycles.queues, cycles.queue_problem = rebuild_or_explain(engine, settings, today=today)
        record_queue_build(engine, [cycle.run.source_id for cycle in cycles],
                           cycles.queues, cycles.queue_problem)
    cycles.stages["queues"] = _queue_outcome(settings, queues, cycles.queue_problem)
    return cycles


def dispatch_once(engine: sa.Engine, settings: Settings) -> Pusher | None:
    """A push stage for a one-shot command: one pass of the outbox, when targets are set."""
    if not (settings.push.enabled and settings.push.targets):
        return None

    def push() -> None:
        from tc_sync.push.dispatcher import Dispatcher

        try:
            with Dispatcher(engine, settings) as dispatcher:
                dispatcher.run_once()
        except Exception as error:   # a target down must not fail the sync: it retries
            log.error("push_failed_to_run", error_class=type(error).__name__)

    return push


def _release(engine: sa.Engine) -> None:
    """Between stages: the next starts from what is live, not from what the last one cached
    (a SQLite ledger's connections) or freed (issue 17: `tc_sync/memory.py`)."""
    release_idle_connections(engine)
    trim()


def _push_stage(push: Pusher | None) -> str:
    if push is None:
        return "skipped"
    push()
    return "ok"


def _queue_outcome(settings: Settings, asked: bool, problem: str | None) -> str:
    if not asked or not settings.queues.enabled:
        return "skipped"
    return "failed" if problem else "ok"
