"""`tc-sync status`: the last sync of each source, its rows and what went wrong."""

from __future__ import annotations

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import quarantine, sync_runs


def run_status(settings: Settings) -> int:
    engine = open_ledger(settings.ledger.url)
    healthy = True
    with engine.connect() as connection:
        for source_id in settings.sources:
            last = connection.execute(
                sa.select(sync_runs).where(sync_runs.c.source_id == source_id)
                .order_by(sync_runs.c.run_id.desc()).limit(1)).mappings().first()
            last_ok = connection.execute(
                sa.select(sa.func.max(sync_runs.c.finished_at)).where(
                    sync_runs.c.source_id == source_id, sync_runs.c.outcome == "ok")).scalar()
            held = connection.execute(
                sa.select(sa.func.count()).select_from(quarantine).where(
                    quarantine.c.source_id == source_id,
                    quarantine.c.released_at.is_(None))).scalar_one()
            if last is None:
                print(f"{source_id}: never synced")
                healthy = False
                continue
            print(f"{source_id}: last run {last['run_id']} {last['outcome']} at "
                  f"{last['started_at']:%Y-%m-%d %H:%M:%S} UTC, {last['rows_read']:,} rows "
                  f"read, {last['rows_quarantined']:,} quarantined; Open Dental "
                  f"{last['pms_version'] or '?'}")
            print(f"  last successful sync: "
                  f"{f'{last_ok:%Y-%m-%d %H:%M:%S} UTC' if last_ok else 'never'}; "
                  f"rows in quarantine: {held:,}")
            if last["error_detail"]:
                print(f"  problem: {last['error_class']}: {last['error_detail']}")
            healthy = healthy and last["outcome"] == "ok"
    return 0 if healthy else 1
