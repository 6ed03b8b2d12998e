"""`tc-sync verify`: run Open Dental's own reports on the PMS and compare them with the queues.

Exit 0 when every difference is explained (a mapping knob, a snooze), 1 on an unexplained one
or when the PMS or the sync before it fails, 2 on a configuration problem.
"""

from __future__ import annotations

import sys
from datetime import date

import sqlalchemy as sa

from tc_sync.adapter.registry import adapter_folder
from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import cycle_source
from tc_sync.drivers.base import DriverError
from tc_sync.drivers.registry import open_driver
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.state import close_interrupted_runs
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock
from tc_sync.verify import render
from tc_sync.verify.compare import Reason
from tc_sync.verify.reports import Report, ReportsError, load_reports
from tc_sync.verify.source import SourceResult, parity_mappings, verify_source

EXIT_OK, EXIT_DIFFERENT, EXIT_CONFIG = 0, 1, 2


def _fail(message: str) -> None:
    print(f"tc-sync: {message}", file=sys.stderr)


def _sources(settings: Settings, only: str | None) -> list[str] | None:
    if only is not None and only not in settings.sources:
        known = ", ".join(settings.sources) or "none"
        _fail(f"no source '{only}' in the configuration (sources: {known})")
        return None
    chosen = [only] if only is not None else [
        source_id for source_id, source in settings.sources.items() if source.enabled]
    if not chosen:
        _fail("the configuration has no enabled sources to verify")
        return None
    return chosen


def _sync_first(engine: sa.Engine, settings: Settings, mappings: Mappings,
                source_ids: list[str], quiet: bool) -> bool:
    """One cycle per source, as `sync --once` runs it, so the ledger is current."""
    try:
        with DaemonLock(engine, source_ids):
            with engine.begin() as connection:
                close_interrupted_runs(connection, source_ids)
            for source_id in source_ids:
                run = cycle_source(engine, settings, mappings, source_id).run
                if run.outcome != "ok":
                    _fail(f"{source_id}: the sync before verifying ended {run.outcome}"
                          f"{f' ({run.error})' if run.error else ''}; see `tc-sync status`, "
                          "or compare with the ledger as it is: `tc-sync verify --no-sync`")
                    return False
                if not quiet:
                    print(f"{source_id}: synced (run {run.run_id}, {run.rows_read:,} rows read)")
    except AlreadyRunning as error:
        _fail(f"{error}; the daemon keeps the ledger current: run `tc-sync verify --no-sync`")
        return False
    return True


def run_verify(settings: Settings, *, source: str | None, sync: bool, output: str) -> int:
    """Verify the chosen sources and print what was found (text or JSON)."""
    source_ids = _sources(settings, source)
    if source_ids is None:
        return EXIT_CONFIG
    site, parity = load_mappings(settings.mappings_file), parity_mappings()
    try:
        reports = {source_id: load_reports(adapter_folder(
            settings.sources[source_id].kind, settings.adapters_dir))
            for source_id in source_ids}
    except ReportsError as error:
        _fail(f"the adapter's reports cannot be used: {error}")
        return EXIT_CONFIG
    engine = open_ledger(settings.ledger.url)
    try:
        with_reports = [source_id for source_id in source_ids if reports[source_id]]
        if sync and with_reports and not _sync_first(
                engine, settings, site, with_reports, quiet=output == "json"):
            return EXIT_DIFFERENT
        today = practice_today(settings)
        results = []
        for source_id in source_ids:
            found = _verify(engine, settings, source_id, reports[source_id], site, parity,
                            today)
            if isinstance(found, int):
                return found
            results.append(found)
    finally:
        engine.dispose()
    print(render.as_json(results, today) if output == "json" else render.text(results, today),
          end="")
    unexplained = sum(result.count(Reason.UNEXPLAINED) for result in results)
    return EXIT_DIFFERENT if unexplained else EXIT_OK


def _verify(engine: sa.Engine, settings: Settings, source_id: str, reports: list[Report],
            site: Mappings, parity: Mappings, today: date) -> SourceResult | int:
    """The source's result, or the exit code of what stopped it."""
    if not reports:
        return SourceResult(source_id, has_reports=False)
    try:
        with open_driver(settings.sources[source_id]) as driver:
            return verify_source(engine, driver, source_id, reports, site, parity, today)
    except DriverError as error:
        _fail(f"{source_id}: cannot run Open Dental's reports: {error}")
        return EXIT_DIFFERENT
    except ReportsError as error:
        _fail(f"{source_id}: the adapter's reports cannot be used: {error}")
        return EXIT_CONFIG
