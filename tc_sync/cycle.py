"""One cycle per source: pull it into the ledger, then reconcile its coordination items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from threading import Event
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.items.reconcile import ReconcileTotals, reconcile_source
from tc_sync.mappings import Mappings
from tc_sync.sync import RunResult, sync_source


@dataclass
class CycleResult:
    """A source's sync run and the reconcile that followed it."""

    run: RunResult
    items: ReconcileTotals


def practice_today(settings: Settings) -> date:
    """Today at the practice (its configured time zone), which ages every item."""
    return datetime.now(ZoneInfo(settings.timezone)).date()


def cycle_source(engine: sa.Engine, settings: Settings, mappings: Mappings, source_id: str,
                 *, full: bool = False, stop: Event | None = None) -> CycleResult:
    """Sync one source, then reconcile its items (resolving only after a complete run)."""
    run = sync_source(engine, source_id, settings.sources[source_id], settings.sync, full=full,
                      adapters_dir=settings.adapters_dir, stop=stop)
    totals = reconcile_source(
        engine, source_id, mappings, practice_today(settings),
        complete_run=run.outcome == "ok", run_id=run.run_id, full=full, push=settings.push)
    return CycleResult(run, totals)


def run_cycle(engine: sa.Engine, settings: Settings, mappings: Mappings, *,
              full: bool = False, only_source: str | None = None) -> list[CycleResult]:
    """Sync and reconcile every enabled source (or just `only_source`), each on its own."""
    return [cycle_source(engine, settings, mappings, source_id, full=full)
            for source_id, source in settings.sources.items()
            if (source_id == only_source) or (only_source is None and source.enabled)]
