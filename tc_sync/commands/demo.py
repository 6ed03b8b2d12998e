"""`tc-sync demo`: build (or reuse) a synthetic Open Dental practice and sync it.

The practice is an Open Dental-shaped SQLite file read through the same adapter SQL as a real
Open Dental database; the ledger is a SQLite file beside it. Nothing here is real patient data.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

from tc_sync.adapter.registry import configuration_problems
from tc_sync.commands.sync import print_queues, print_results
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.cycle import CycleRun, run_cycle
from tc_sync.demo import changes
from tc_sync.demo.frontdesk import work_days
from tc_sync.items.model import ItemKind
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items, replica
from tc_sync.pull.progress import TerminalProgress
from tc_sync.queues.rows import KIND_LABELS
from tc_sync.records import Appointment, Claim, Coverage, Patient, Procedure

DEMO_SOURCE = "demo"
CLOCK = "today.txt"
"""The demo practice's today, kept beside it: the day it was built, moved on by `--advance`."""


def demo_settings(folder: Path) -> Settings:
    """The embedded configuration: one Open Dental source read from the demo file.

    It is also written to the folder, so every other command works on the demo:
    ``tc-sync --config tc-sync-demo/tc-sync.yaml items list``.
    """
    data = {
        "site_id": "demo-practice",
        "practice_day_file": str((folder / CLOCK).resolve()),
        "ledger": {"url": f"sqlite:///{(folder / 'ledger.db').resolve()}"},
        "sources": {DEMO_SOURCE: {
            "kind": "opendental",
            "connection": {"driver": "sqlite", "path": str((folder / "practice.db").resolve())},
        }},
    }
    config = folder / "tc-sync.yaml"
    if not config.exists():
        config.write_text("# The demo's configuration, written by `tc-sync demo`.\n"
                          + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    elif "practice_day_file:" not in config.read_text(encoding="utf-8"):
        with config.open("a", encoding="utf-8") as older:   # written by an older tc-sync
            older.write(f"# The demo's day, moved on by `tc-sync demo --advance`.\n"
                        f"practice_day_file: {data['practice_day_file']}\n")
    return settings_from_mapping(data, label=str(config), check=configuration_problems)


def build_practice(folder: Path, fresh: bool) -> bool:
    """Create the demo practice file unless it exists; True when it was built now."""
    from tc_sync.demo.practice import PracticeSpec, write_sqlite

    practice = folder / "practice.db"
    if fresh:
        for name in ("practice.db", "ledger.db", "ledger.db-wal", "ledger.db-shm", CLOCK):
            (folder / name).unlink(missing_ok=True)
    if practice.exists() and _has_every_table(practice):
        return False
    practice.unlink(missing_ok=True)     # made by an older tc-sync: its schema lacks tables
    folder.mkdir(parents=True, exist_ok=True)
    today = date.today()
    write_sqlite(practice, PracticeSpec(today=today))
    set_demo_today(folder, today)
    return True


def demo_today(folder: Path) -> date:
    """The demo practice's today: the day it was built, plus every `--advance` since (a demo
    built by an older tc-sync, which kept no day: the real today)."""
    clock = folder / CLOCK
    if not clock.exists():
        return date.today()
    text = clock.read_text(encoding="utf-8").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DemoError(f"{clock}, line 1: not a date (YYYY-MM-DD): {text!r}; "
                        "run `tc-sync demo --fresh` to start the demo again") from None


def set_demo_today(folder: Path, today: date) -> None:
    """Keep the demo practice's today, so the next run (or `--advance`) continues from it."""
    (folder / CLOCK).write_text(f"{today.isoformat()}\n", encoding="utf-8")


class DemoError(Exception):
    """The demo folder holds something the demo cannot use."""


def _counts(connection: sa.Connection, column: sa.Column[str],
            *where: sa.ColumnElement[bool]) -> dict[str, int]:
    query = sa.select(column, sa.func.count()).where(*where).group_by(column)
    return {str(value): int(count) for value, count in connection.execute(query)}


def _has_every_table(practice: Path) -> bool:
    from tc_sync.demo.odschema import tables_for

    connection = sqlite3.connect(f"file:{practice}?mode=ro", uri=True)
    try:
        present = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()
    return all(table.name in present for table in tables_for("24.3.10.0"))


def ledger_summary(engine: sa.Engine, source_id: str, today: date) -> list[str]:
    """A few counts a coordinator recognises, read back from the ledger."""
    patients, procedures = replica[Patient], replica[Procedure]
    appointments, claims, coverages = replica[Appointment], replica[Claim], replica[Coverage]

    def live(table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.source_id == source_id, table.c.deleted_at.is_(None))

    with engine.connect() as c:
        active = c.scalar(sa.select(sa.func.count()).where(
            live(patients), patients.c.status == "active"))
        planned = c.execute(sa.select(
            sa.func.count(), sa.func.count(sa.distinct(procedures.c.patient_id)),
            sa.func.coalesce(sa.func.sum(procedures.c.fee), 0),
        ).where(live(procedures), procedures.c.status == "planned")).one()
        future = c.scalar(sa.select(sa.func.count()).where(
            live(appointments), appointments.c.status == "scheduled",
            appointments.c.starts_at >= today))
        by_status = _counts(c, appointments.c.status, live(appointments))
        predeterminations = _counts(c, claims.c.status, live(claims),
                                    claims.c.claim_type == "predetermination")
        claim_counts = _counts(c, claims.c.status, live(claims),
                               claims.c.claim_type != "predetermination")
        insured = c.scalar(sa.select(sa.func.count(sa.distinct(coverages.c.patient_id))).where(
            live(coverages)))
    return [
        f"active patients: {active:,} ({insured:,} with insurance)",
        f"planned procedures: {planned[0]:,} for {planned[1]:,} patients, "
        f"${planned[2]:,.2f} in fees",
        f"appointments: {future:,} scheduled ahead, {by_status.get('planned', 0):,} planned, "
        f"{by_status.get('broken', 0):,} broken, "
        f"{by_status.get('unscheduled_list', 0):,} on the unscheduled list",
        f"predeterminations: {predeterminations.get('sent', 0):,} awaiting an answer, "
        f"{predeterminations.get('received', 0):,} answered",
        f"claims: {claim_counts.get('unsent', 0):,} unsent, {claim_counts.get('sent', 0):,} "
        f"sent and unpaid, {claim_counts.get('received', 0):,} received",
    ]


def run_demo(folder: Path, *, fresh: bool = False, verbose: int = 0,
             advance: int | None = None) -> int:
    """Build (or reuse) the demo practice, run one cycle on it, and say what it found.

    With `advance`, the front desk first works that many days in the practice (see
    tc_sync.demo.frontdesk), the demo's today moves on by as many, and the cycle's changes are
    told: items resolved and opened, the queue files rewritten, the digest before and after.
    """
    if advance is not None and advance < 1:
        print("tc-sync: --advance takes a number of days, 1 or more", file=sys.stderr)
        return 2
    built = build_practice(folder, fresh)
    try:
        today = demo_today(folder)
    except DemoError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 2
    set_demo_today(folder, today)       # kept for every command on the demo's configuration
    settings = demo_settings(folder)
    print(f"demo practice: {folder / 'practice.db'} ({'built now' if built else 'reused'}; "
          "synthetic data)")
    engine = open_ledger(settings.ledger.url)
    mappings = load_mappings()
    if advance is not None:
        if not _has_synced(engine):     # a first advance: the starting point, synced first
            run_cycle(engine, settings, mappings, queues=True, today=today)
        was = changes.before(engine, settings, DEMO_SOURCE, today)
        done = work_days(folder / "practice.db", today, advance)
        today += timedelta(days=advance)
        set_demo_today(folder, today)
        print(f"the front desk worked {advance} day(s); the demo's today is now {today}:")
        for line in done.lines() or ["nothing to do"]:
            print(f"  {line}")
    cycles = run_cycle(engine, settings, mappings, queues=True, today=today,
                       progress=TerminalProgress.if_terminal(verbose > 0))
    print_results(list(cycles))
    if advance is not None:
        _print_changes(engine, settings, folder, was, cycles, today)
    else:
        _print_state(engine, folder, today)
    print_queues(cycles)
    engine.dispose()
    return 0 if all(cycle.run.outcome == "ok" for cycle in cycles) else 1


def _has_synced(engine: sa.Engine) -> bool:
    with engine.connect() as c:
        return bool(c.scalar(sa.select(sa.func.count()).select_from(items).where(
            items.c.source_id == DEMO_SOURCE)))


def _print_state(engine: sa.Engine, folder: Path, today: date) -> None:
    print(f"ledger: {folder / 'ledger.db'}")
    for line in ledger_summary(engine, DEMO_SOURCE, today):
        print(f"  {line}")
    print("coordination items now open:")
    for line in items_summary(engine, DEMO_SOURCE):
        print(f"  {line}")
    print(f"see them: tc-sync --config {folder / 'tc-sync.yaml'} items list")


def _print_changes(engine: sa.Engine, settings: Settings, folder: Path, was: changes.Before,
                   cycles: CycleRun, today: date) -> None:
    """What the cycle changed, in a new user's words."""
    print("what changed in the ledger:")
    for line in changes.describe(engine, folder / "practice.db", DEMO_SOURCE, was):
        print(f"  {line}")
    print("  tasks: none pushed (the demo has no push target; with Open Dental's API "
          "configured, a resolved item closes its task)")
    print(f"digest: {was.headline}\n     -> {changes.headline(engine, settings, today)}")
    print(f"see an item's history: tc-sync --config {folder / 'tc-sync.yaml'} items show ITEM")


def items_summary(engine: sa.Engine, source_id: str) -> list[str]:
    """Open items per kind in a coordinator's words, with their dollar total (blank for a
    kind that has no amount, such as a referral)."""
    with engine.connect() as c:
        rows = {kind: (count, total) for kind, count, total in c.execute(
            sa.select(items.c.kind, sa.func.count(), sa.func.sum(items.c.amount)).where(
                items.c.source_id == source_id, items.c.status == "open",
            ).group_by(items.c.kind))}
    width = max(len(KIND_LABELS[kind]) for kind in ItemKind)
    lines = []
    for kind in ItemKind:
        count, total = rows.get(kind.value, (0, None))
        money = f"${total / 100:>12,.2f}" if total else ""
        lines.append(f"{KIND_LABELS[kind]:<{width}} {count:>5,}  {money}".rstrip())
    return lines
