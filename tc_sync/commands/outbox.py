"""`tc-sync outbox list|dead|retry` and `tc-sync push`: see and drain what is owed outside."""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import outbox
from tc_sync.push.outbox import retry_dead
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock


def list_outbox(settings: Settings, *, status: str | None, target: str | None,
                limit: int) -> int:
    """The newest actions (or those with `status`), one line each."""
    engine = open_ledger(settings.ledger.url)
    query = sa.select(outbox).order_by(outbox.c.action_id.desc()).limit(limit)
    if status:
        query = query.where(outbox.c.status == status)
    if target:
        query = query.where(outbox.c.target == target)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        per_status = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
        counts: dict[str, int] = {str(name): int(n)
                                  for name, n in connection.execute(per_status)}
    print(f"{'id':>7} {'status':<10} {'target':<16} {'action':<12} {'tries':>5} "
          f"{'next attempt (UTC)':<19} {'external':<10} item / error")
    for row in rows:
        when = f"{row['next_attempt_at']:%Y-%m-%d %H:%M:%S}" if row["status"] in (
            "pending", "retry") else ""
        about = row["item_key"] or json.loads(row["payload"]).get("event", "")
        if row["last_error"] and row["status"] in ("retry", "dead"):
            about += f"  [{row['last_error']}]"
        print(f"{row['action_id']:>7} {row['status']:<10} {row['target']:<16} "
              f"{row['action']:<12} {row['attempts']:>5} {when:<19} "
              f"{row['external_id'] or '':<10} {about}")
    summary = ", ".join(f"{count:,} {name}" for name, count in sorted(counts.items()))
    print(f"outbox: {summary or 'empty'}")
    return 0


def retry(settings: Settings, action_ids: list[int] | None) -> int:
    """Give dead letters another full set of attempts."""
    engine = open_ledger(settings.ledger.url)
    count = retry_dead(engine, action_ids)
    print(f"tc-sync: {count:,} dead action(s) will be tried again at the next push")
    return 0


def push_once(settings: Settings) -> int:
    """Deliver everything due now, as the daemon's push job does, then exit."""
    from tc_sync.push.dispatcher import Dispatcher

    if not settings.push.targets:
        print("tc-sync: no push targets are configured (push.targets)", file=sys.stderr)
        return 2
    engine = open_ledger(settings.ledger.url)
    try:
        with DaemonLock(engine, list(settings.sources),
                        lease_seconds=settings.ledger.lease_seconds):
            dispatcher = Dispatcher(engine, settings)
            try:
                dispatcher.recover_at_start()
                totals = dispatcher.run_once()
            finally:
                dispatcher.close()
    except AlreadyRunning as error:
        print(f"tc-sync: {error} (the running daemon pushes by itself)", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"tc-sync: {totals.sent} sent, {totals.found} found already sent, "
          f"{totals.retried} to retry, {totals.waiting} waiting, {totals.dead} dead, "
          f"{totals.cancelled} cancelled")
    return 1 if totals.dead else 0
