"""Retention: run history and finished outbox rows older than a horizon leave the ledger.

Most runs of an always-on daemon find nothing to change; they are the bulk of the history (one
run and a row per stream every cycle), so they go after a shorter horizon than the runs that
changed rows or failed; so do looks at the change hints (`hinted` runs), whatever they read:
what they changed is in the replica and the items' history.

The daemon prunes once a day, in small batches of one short transaction each, only for its own
sources. What stays, whatever its age:
- items and their event history (reports count item events; an item is never deleted);
- each source's newest finished run, newest successful run, newest successful scan (the
  cycle reconciles only once one has read every stream whole: `state.read_whole`) and newest
  run that saw the PMS version (health says when a source last synced; a task is closed the
  way its PMS version needs);
- runs still marked running;
- outbox rows not finished (pending, in flight, retry) and dead letters (they wait for a
  person), and every row of an item that is open or resolved within the horizon: resolving an
  item closes its task through the row that created it, and an open item with no task row
  would get a second task.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tc_sync.ledger.schema import items, outbox, sync_run_streams, sync_runs
from tc_sync.ledger.state import HINTED, now_utc

UNFINISHED = ("pending", "in_flight", "retry")
FINISHED = ("sent", "cancelled")


@dataclass
class Pruned:
    """What one pruning removed."""

    runs: int = 0
    outbox: int = 0
    batches: int = 0


def _runs_to_keep(connection: sa.Connection, source_ids: Sequence[str]) -> set[int]:
    keep: set[int] = set()
    for source_id in source_ids:
        mine = sync_runs.c.source_id == source_id
        for condition in (sync_runs.c.outcome != "running", sync_runs.c.outcome == "ok",
                          sa.and_(sync_runs.c.outcome == "ok", sync_runs.c.mode != HINTED),
                          sync_runs.c.pms_version.is_not(None)):
            newest = connection.execute(
                sa.select(sa.func.max(sync_runs.c.run_id)).where(mine, condition)).scalar()
            if newest is not None:
                keep.add(int(newest))
    return keep


def _old_runs(source_ids: Sequence[str], before: datetime, unchanged_before: datetime,
              keep: set[int], batch_rows: int) -> sa.Select[tuple[int]]:
    changed_nothing = sa.or_(sa.and_(
        sync_runs.c.outcome == "ok", sync_runs.c.rows_inserted == 0,
        sync_runs.c.rows_updated == 0, sync_runs.c.rows_deleted == 0,
        sync_runs.c.rows_quarantined == 0),
        sync_runs.c.mode == HINTED)     # a few a minute in office hours: a log of looks
    return (sa.select(sync_runs.c.run_id)
            .where(sync_runs.c.source_id.in_(list(source_ids)),
                   sync_runs.c.started_at < max(before, unchanged_before),
                   sa.or_(sync_runs.c.started_at < before,
                          sa.and_(sync_runs.c.started_at < unchanged_before, changed_nothing)),
                   sync_runs.c.outcome != "running", sync_runs.c.run_id.not_in(list(keep)))
            .order_by(sync_runs.c.run_id).limit(batch_rows))


def _old_outbox(source_ids: Sequence[str], before: datetime,
                batch_rows: int) -> sa.Select[tuple[int]]:
    busy = outbox.alias("busy")
    item_done_long_ago = sa.exists().where(
        items.c.item_key == outbox.c.item_key, items.c.status == "resolved",
        items.c.resolved_at < before)
    item_still_pushing = sa.exists().where(
        busy.c.item_key == outbox.c.item_key, busy.c.status.in_(UNFINISHED))
    return (sa.select(outbox.c.action_id)
            .where(outbox.c.source_id.in_(list(source_ids)), outbox.c.status.in_(FINISHED),
                   sa.func.coalesce(outbox.c.done_at, outbox.c.updated_at) < before,
                   sa.or_(outbox.c.item_key.is_(None),
                          sa.and_(item_done_long_ago, ~item_still_pushing)))
            .order_by(outbox.c.action_id).limit(batch_rows))


def prune(engine: sa.Engine, source_ids: Sequence[str], *, runs_days: int, outbox_days: int,
          unchanged_runs_days: int | None = None, batch_rows: int = 1000,
          now: datetime | None = None, stop: threading.Event | None = None) -> Pruned:
    """Delete these sources' runs older than `runs_days` (successful runs that changed nothing:
    older than `unchanged_runs_days`) and finished outbox rows older than `outbox_days`,
    `batch_rows` at a time (each batch commits); stops early when `stop` is set.
    """
    moment = now or now_utc()
    runs_before = moment - timedelta(days=runs_days)
    unchanged_before = moment - timedelta(days=unchanged_runs_days or runs_days)
    outbox_before = moment - timedelta(days=outbox_days)
    pruned = Pruned()
    with engine.connect() as connection:
        keep = _runs_to_keep(connection, source_ids)
    while not (stop is not None and stop.is_set()):
        with engine.begin() as connection:
            run_ids = list(connection.execute(
                _old_runs(source_ids, runs_before, unchanged_before, keep, batch_rows)).scalars())
            if run_ids:
                connection.execute(sync_run_streams.delete().where(
                    sync_run_streams.c.run_id.in_(run_ids)))
                connection.execute(sync_runs.delete().where(sync_runs.c.run_id.in_(run_ids)))
        if not run_ids:
            break
        pruned.runs += len(run_ids)
        pruned.batches += 1
    while not (stop is not None and stop.is_set()):
        with engine.begin() as connection:
            action_ids = list(connection.execute(
                _old_outbox(source_ids, outbox_before, batch_rows)).scalars())
            if action_ids:
                connection.execute(outbox.delete().where(outbox.c.action_id.in_(action_ids)))
        if not action_ids:
            break
        pruned.outbox += len(action_ids)
        pruned.batches += 1
    return pruned
