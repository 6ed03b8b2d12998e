"""A deterministic synthetic dental practice in Open Dental's tables (demos, tests, benchmarks).

Everything here is made up: names come from small built-in lists, phone numbers are 555-01xx,
e-mail addresses are at example.com. The same :class:`PracticeSpec` always gives the same rows.

Volumes scale with the number of patients (per patient, on average: about 33 procedures, 6.7
appointments, 5 claims, 15 claim procedures, 3 contact-log entries, 1 treatment plan, 1 coverage),
and every case the coordination features care about is present several times, dated relative to
``spec.today``: treatment planned and not scheduled, scheduled in the future, planned appointments
scheduled or not, broken and unscheduled-list appointments, pending and returned
predeterminations, claims unsent, sent and aging (0-30, 31-60, 61-90, 90+ days), paid, denied and
underpaid, custom claim tracking (with its status history, some statuses suppressing a claim from
the Outstanding Claims report for a number of days), plans renewing in January and in other months,
uninsured, inactive and archived patients with treatment planned, and Open Dental's "none" dates.

This module is the generator's front: :func:`iter_rows` streams the rows (``generator`` and the
modules it composes make them), :func:`write_sqlite` builds a SQLite file and :func:`write_mysql`
loads MySQL/MariaDB quickly enough for the 60,000-patient benchmark practice (``writers``), and
:func:`main` is the command line (``python -m tc_sync.demo.practice --help``).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pymysql

from tc_sync.demo.context import Row
from tc_sync.demo.generator import iter_rows
from tc_sync.demo.odschema import TABLES
from tc_sync.demo.spec import DEFAULT_TODAY, PracticeSpec
from tc_sync.demo.writers import load_mysql, write_mysql, write_sqlite

__all__ = [
    "DEFAULT_TODAY",
    "PracticeSpec",
    "Row",
    "iter_rows",
    "main",
    "write_mysql",
    "write_sqlite",
]


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] | None = None) -> int:
    """Generate a practice into MySQL/MariaDB or a SQLite file and print rows per table."""
    say = out or (lambda line: sys.stdout.write(line + "\n"))
    parser = argparse.ArgumentParser(
        prog="python -m tc_sync.demo.practice",
        description="Load a synthetic Open Dental practice (made-up data) for demos and "
        "benchmarks.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--mysql-database", help="database to (re)load; created if missing")
    target.add_argument("--sqlite", type=Path, help="SQLite file to write")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the practice's today, YYYY-MM-DD (default: the real today)")
    parser.add_argument("--schema-version", default="24.3.10.0")
    parser.add_argument("--engine", default="MyISAM")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    spec = PracticeSpec(patients=args.patients, seed=args.seed, today=args.today or date.today())
    started = time.perf_counter()
    if args.sqlite is not None:
        write_sqlite(args.sqlite, spec, args.schema_version)
        conn = sqlite3.connect(args.sqlite)
        try:
            counts = {
                t.name: int(conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0])
                for t in TABLES
                if t.in_version(args.schema_version)
            }
        finally:
            conn.close()
    else:
        database = args.mysql_database
        if not database.replace("_", "").isalnum():
            parser.error(f"not a plain database name: {database!r}")
        conn_my = pymysql.connect(
            host=args.host, port=args.port, user=args.user, password=args.password,
            charset="utf8mb4", autocommit=True,
        )
        try:
            with conn_my.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8")
                cur.execute(f"USE `{database}`")
            counts = load_mysql(conn_my, spec, args.engine, args.schema_version)
        finally:
            conn_my.close()
    seconds = time.perf_counter() - started
    width = max(len(name) for name in counts)
    for name, n in counts.items():
        say(f"{name:<{width}}  {n:>10,}")
    say(f"{'total':<{width}}  {sum(counts.values()):>10,}")
    say(f"loaded {spec.patients:,} patients in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
