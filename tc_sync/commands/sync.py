"""`tc-sync sync`: one cycle of every configured source (pull, reconcile, push, queues)."""

from __future__ import annotations

import sys

from tc_sync.commands.queues import print_build
from tc_sync.config import Settings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import (
    FIRST_SYNC_UNFINISHED,
    STOPPING,
    CycleResult,
    CycleRun,
    dispatch_once,
    run_cycle,
)
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.state import close_interrupted_runs
from tc_sync.pull.progress import TerminalProgress
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock

WAITING = {
    STOPPING: "the run was stopped; the next one evaluates these changes",
    FIRST_SYNC_UNFINISHED: "they wait until a sync has read every table whole "
                           "(run it again once the problem above is fixed)",
}
"""Why a cycle left its items to a later run, in words (`cycle._reconcile_waits`)."""


def print_results(cycles: list[CycleResult]) -> None:
    """A few lines per source: outcome, rows, time, the error if any, what items did."""
    for cycle in cycles:
        result = cycle.run
        print(f"{result.source_id}: {result.outcome} (run {result.run_id}, "
              f"{result.pms_title or 'PMS'} {result.pms_version or 'version unknown'}) "
              f"{result.rows_read:,} rows read in {result.seconds:.1f} s, "
              f"{result.rows_quarantined:,} quarantined")
        width = max([17, *(len(totals.stream) for totals in result.streams)])
        for totals in result.streams:
            print(f"  {totals.stream:<{width}} {totals.mode:<11} read {totals.rows_read:>9,}  "
                  f"new {totals.rows_inserted:>9,}  changed {totals.rows_updated:>7,}  "
                  f"deleted {totals.rows_deleted:>6,}  quarantined {totals.rows_quarantined:>5,}")
        if result.error:
            print(f"  problem: {result.error}")
        if cycle.waiting is not None:
            print(f"  items: not evaluated: {WAITING[cycle.waiting]}")
            continue
        items = cycle.items
        events = ", ".join(f"{count:,} {event}" for event, count in sorted(items.by_event.items()))
        print(f"  items: {items.patients:,} patients evaluated"
              f"{' (all)' if items.full else ''}: {events or 'no change'}")


def print_queues(cycles: CycleRun) -> None:
    """Where the work queues went, or why they could not be written."""
    if cycles.queues is not None:
        print_build(cycles.queues)
    if cycles.queue_problem is not None:
        print(f"tc-sync: {cycles.queue_problem}; check queues.folder and that this account may "
              "write there", file=sys.stderr)


def run_sync(settings: Settings, *, source: str | None, full: bool, verbose: int = 0) -> int:
    """One cycle; 0 when every source synced and the queues were written, else 1."""
    if source is not None and source not in settings.sources:
        known = ", ".join(settings.sources) or "none"
        print(f"tc-sync: no source '{source}' in the configuration (sources: {known})",
              file=sys.stderr)
        return 2
    if not settings.sources:
        print("tc-sync: the configuration has no sources to sync", file=sys.stderr)
        return 2
    mappings = load_mappings(settings.mappings_file)
    engine = open_ledger(settings.ledger.url, settings.ledger.connections)
    syncing = [source] if source is not None else [
        source_id for source_id, settings_ in settings.sources.items() if settings_.enabled]
    try:
        # The daemon's lock: a sync beside a running daemon would race it for the cursors.
        # Holding it, a run a killed `tc-sync sync` left 'running' can be closed.
        with DaemonLock(engine, syncing, lease_seconds=settings.ledger.lease_seconds):
            with engine.begin() as connection:
                close_interrupted_runs(connection, syncing)
            cycles = run_cycle(engine, settings, mappings, full=full, only_source=source,
                               push=dispatch_once(engine, settings), queues=True,
                               progress=TerminalProgress.if_terminal(verbose > 0))
    except AlreadyRunning as error:
        print(f"tc-sync: {error} (the running daemon syncs by itself; `tc-sync status` shows "
              "its last runs)", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print_results(list(cycles))
    print_queues(cycles)
    synced = all(cycle.run.outcome == "ok" for cycle in cycles)
    return 0 if synced and cycles.queue_problem is None else 1
