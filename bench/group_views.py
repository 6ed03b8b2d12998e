"""Benchmark: a group's views of one PostgreSQL ledger (issue 20).

N synthetic Open Dental practices (`tc_sync.demo.practice`) are synced in this process into one
fresh PostgreSQL ledger; then timed: the group health page (`/group.json`, every practice),
one practice's queue build for comparison, `queues build --group` (every file written, then
again with nothing changed), the extra read of the per-practice totals, and `report monthly
--group` (each practice's report with its charts, and the side-by-side table). Extrapolated
linearly to 500 practices (the work is per practice and per open item).

Usage: python bench/group_views.py [--practices 8] [--patients 1000]
       [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.observability.group_health import group_answer
from tc_sync.pull.run import sync_source
from tc_sync.queues.build import build_queues
from tc_sync.queues.group import build_group_queues
from tc_sync.queues.patients import per_patient
from tc_sync.queues.rows import load_rows
from tc_sync.reports.group import build_group_report
from tc_sync.reports.period import month_of

TARGET_PRACTICES = 500
TODAY = date(2026, 11, 26)


def _timed(what: str, figures: dict[str, float], run: Callable[[], object]) -> None:
    started = time.perf_counter()
    run()
    figures[what] = time.perf_counter() - started


def measure(practices: int, patients: int, pg: str) -> tuple[dict[str, float], int]:
    """Seconds per view, and the open items of the group."""
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    database = f"tc_views_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {database}")
    url = admin.url.set(database=database).render_as_string(hide_password=False)
    figures: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tc-views-") as temp:
            folder = Path(temp)
            ids = [f"practice{n:03d}" for n in range(practices)]
            for n, practice in enumerate(ids):
                write_sqlite(folder / f"{practice}.db",
                             PracticeSpec(patients=patients, seed=n + 1, today=TODAY))
            settings = settings_from_mapping({
                "timezone": "America/Chicago", "ledger": {"url": url},
                "queues": {"folder": str(folder / "queues")},
                "reports": {"folder": str(folder / "reports")},
                "sources": {practice: {"kind": "opendental", "connection": {
                    "driver": "sqlite", "path": str(folder / f"{practice}.db")}}
                    for practice in ids}})
            engine = open_ledger(url)
            mappings = load_mappings()
            for practice in ids:
                run = sync_source(engine, practice, settings.sources[practice], settings.sync,
                                  full=True)
                reconcile_source(engine, practice, mappings, TODAY, complete_run=True,
                                 run_id=run.run_id)
            one = settings.model_copy(update={"sources": {ids[0]: settings.sources[ids[0]]}})
            _timed("one practice's queues", figures, lambda: build_queues(
                engine, one, folder=folder / "one", today=TODAY, force=True))
            built = build_group_queues(engine, settings, today=TODAY, force=True)
            figures["queues --group, its queue files (first build)"] = built.queues.seconds
            _timed("queues --group, every file (with totals)", figures,
                   lambda: build_group_queues(engine, settings, today=TODAY, force=True))
            _timed("queues --group, nothing changed", figures,
                   lambda: build_group_queues(engine, settings, today=TODAY))

            def read() -> None:
                with engine.connect() as connection:
                    per_patient(load_rows(connection, ids, TODAY))
            _timed("the totals' extra read", figures, read)
            _timed("/group.json", figures, lambda: group_answer(engine, settings, "/group.json"))
            _timed("report monthly --group", figures, lambda: build_group_report(
                engine, settings, "monthly", period=month_of(TODAY),
                now=datetime(2026, 12, 1, 18, tzinfo=UTC), mappings=mappings))
            engine.dispose()
            return figures, built.totals[-1].tally.items
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--practices", type=int, default=8)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    arguments = parser.parse_args(argv)
    figures, open_items = measure(arguments.practices, arguments.patients, arguments.pg)
    scale = TARGET_PRACTICES / arguments.practices
    print(f"{arguments.practices} practices of {arguments.patients:,} patients, "
          f"{open_items:,} open follow-ups, one PostgreSQL ledger")
    for what, seconds in figures.items():
        at_target = "" if what == "one practice's queues" else (
            f"; about {seconds * scale:,.0f} s at {TARGET_PRACTICES} practices")
        print(f"  {what}: {seconds:.2f} s{at_target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
