"""`tc-sync status [--group]`: the last sync (scan) of each source, its rows and what went wrong,
how far the one running now has got, and when change hints last re-read something; with
--group, every practice of the group's configuration in a line or two (`group_health`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tc_sync.adapter.registry import pms_title
from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import quarantine, sync_runs
from tc_sync.ledger.state import HINTED, now_utc
from tc_sync.observability.group_health import ago, group_health
from tc_sync.pull.cursor_store import standing_since


def run_status(settings: Settings) -> int:
    """Each source's last finished sync, and the one running now if any; 1 if a source never
    synced or its last sync did not end ok (a first sync still running is not a failure)."""
    engine = open_ledger(settings.ledger.url)
    healthy = True
    with engine.connect() as connection:
        for source_id in settings.sources:
            scans = (sa.select(sync_runs).where(sync_runs.c.source_id == source_id,
                                                sync_runs.c.mode != HINTED)
                     .order_by(sync_runs.c.run_id.desc()).limit(1))
            last = connection.execute(
                scans.where(sync_runs.c.outcome != "running")).mappings().first()
            running = connection.execute(
                scans.where(sync_runs.c.outcome == "running")).mappings().first()
            hinted = connection.execute(
                sa.select(sync_runs).where(sync_runs.c.source_id == source_id,
                                           sync_runs.c.mode == HINTED)
                .order_by(sync_runs.c.run_id.desc()).limit(1)).mappings().first()
            last_ok = connection.execute(
                sa.select(sa.func.max(sync_runs.c.finished_at)).where(
                    sync_runs.c.source_id == source_id, sync_runs.c.outcome == "ok")).scalar()
            held = connection.execute(
                sa.select(sa.func.count()).select_from(quarantine).where(
                    quarantine.c.source_id == source_id,
                    quarantine.c.released_at.is_(None))).scalar_one()
            if last is None and running is None:
                print(f"{source_id}: never synced")
                healthy = False
                continue
            if last is None:
                assert running is not None
                print(f"{source_id}: first sync running: "
                      f"{_running(connection, source_id, running)}")
            else:
                print(f"{source_id}: last run {last['run_id']} {last['outcome']} at "
                      f"{last['started_at']:%Y-%m-%d %H:%M:%S} UTC, {last['rows_read']:,} rows "
                      f"read, {last['rows_quarantined']:,} quarantined; "
                      f"{pms_title(settings.sources[source_id].kind, settings.adapters_dir)} "
                      f"{last['pms_version'] or '?'}")
            print(f"  last successful sync: "
                  f"{f'{last_ok:%Y-%m-%d %H:%M:%S} UTC' if last_ok else 'never'}; "
                  f"rows in quarantine: {held:,}")
            if last is not None and running is not None:
                print(f"  running now: {_running(connection, source_id, running)}")
            if hinted is not None:
                print(f"  last change re-read from the audit trail: "
                      f"{hinted['started_at']:%Y-%m-%d %H:%M:%S} UTC, {hinted['outcome']}, "
                      f"{hinted['rows_read']:,} rows read")
            if last is not None and last["error_detail"]:
                print(f"  problem: {last['error_class']}: {last['error_detail']}")
            healthy = healthy and (last is None or last["outcome"] == "ok")
    return 0 if healthy else 1


def _running(connection: sa.Connection, source_id: str, run: sa.RowMapping) -> str:
    """A run in progress: when it began, and how far its streams are (from their cursors,
    committed with every batch)."""
    started: datetime = run["started_at"]
    seconds = max(0, int((now_utc() - started).total_seconds()))
    standing = standing_since(connection, source_id, started)
    pulled = sum(1 for stream in standing if stream.done)
    where = [f"{stream.stream} {100 * stream.fraction:.0f}% through its keys"
             if stream.fraction is not None else stream.stream
             for stream in standing if not stream.done]
    return (f"run {run['run_id']} ({run['mode']}), started {started:%H:%M:%S} UTC, "
            f"{ago(seconds)} ago; {pulled} stream{'' if pulled == 1 else 's'} pulled so far"
            + (f", now {', '.join(where)}" if where else ""))


def run_group_status(settings: Settings) -> int:
    """Every practice of the configuration, read from the shared ledger: colour and why;
    1 if any is red."""
    engine = open_ledger(settings.ledger.url)
    try:
        with engine.connect() as connection:
            health = group_health(connection, settings)
    finally:
        engine.dispose()
    print(f"group {settings.site_id}: {health.status} ({len(health.practices)} practice(s), "
          f"checked {health.checked_at})")
    for practice in health.practices:
        print(f"  {practice.source_id:<20} {practice.colour.value.upper():<6} "
              f"{'; '.join(practice.reasons)}")
        print(f"  {'':<20} {practice.open_items:,} open follow-ups; work queues: "
              f"{practice.queues['outcome'] if practice.queues else 'not built yet'}")
    if health.elsewhere:
        print(f"  also in the ledger, not enabled in this configuration: "
              f"{', '.join(health.elsewhere)}")
    return 1 if health.status == "failing" else 0
