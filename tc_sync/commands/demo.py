"""`tc-sync demo`: build (or reuse) a synthetic Open Dental practice and sync it.

The practice is an Open Dental-shaped SQLite file read through the same adapter SQL as a real
Open Dental database; the ledger is a SQLite file beside it. Nothing here is real patient data.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import sqlalchemy as sa
import yaml

from tc_sync.commands.sync import print_queues, print_results
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.cycle import run_cycle
from tc_sync.items.model import ItemKind
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items, replica
from tc_sync.mappings import load_mappings
from tc_sync.progress import TerminalProgress
from tc_sync.records import Appointment, Claim, Coverage, Patient, Procedure

DEMO_SOURCE = "demo"


def demo_settings(folder: Path) -> Settings:
    """The embedded configuration: one Open Dental source read from the demo file.

    It is also written to the folder, so every other command works on the demo:
    ``tc-sync --config tc-sync-demo/tc-sync.yaml items list``.
    """
    data = {
        "site_id": "demo-practice",
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
    return settings_from_mapping(data, label=str(config))


def build_practice(folder: Path, fresh: bool) -> bool:
    """Create the demo practice file unless it exists; True when it was built now."""
    from tc_sync.demo.practice import PracticeSpec, write_sqlite

    practice = folder / "practice.db"
    if fresh:
        for name in ("practice.db", "ledger.db", "ledger.db-wal", "ledger.db-shm"):
            (folder / name).unlink(missing_ok=True)
    if practice.exists() and _has_every_table(practice):
        return False
    practice.unlink(missing_ok=True)     # made by an older tc-sync: its schema lacks tables
    folder.mkdir(parents=True, exist_ok=True)
    write_sqlite(practice, PracticeSpec(today=date.today()))
    return True


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


def ledger_summary(engine: sa.Engine, source_id: str) -> list[str]:
    """A few counts a coordinator recognises, read back from the ledger."""
    today = date.today()
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


def run_demo(folder: Path, *, fresh: bool = False, verbose: int = 0) -> int:
    """Build (or reuse) the demo practice, run one cycle on it, and say what it found."""
    built = build_practice(folder, fresh)
    settings = demo_settings(folder)
    print(f"demo practice: {folder / 'practice.db'} ({'built now' if built else 'reused'}; "
          "synthetic data)")
    engine = open_ledger(settings.ledger.url)
    cycles = run_cycle(engine, settings, load_mappings(), queues=True,
                       progress=TerminalProgress.if_terminal(verbose > 0))
    print_results(list(cycles))
    print(f"ledger: {folder / 'ledger.db'}")
    for line in ledger_summary(engine, DEMO_SOURCE):
        print(f"  {line}")
    print("coordination items now open:")
    for line in items_summary(engine, DEMO_SOURCE):
        print(f"  {line}")
    print(f"see them: tc-sync --config {folder / 'tc-sync.yaml'} items list")
    print_queues(cycles)
    engine.dispose()
    return 0 if all(cycle.run.outcome == "ok" for cycle in cycles) else 1


def items_summary(engine: sa.Engine, source_id: str) -> list[str]:
    """Open items per kind, with their dollar total."""
    with engine.connect() as c:
        rows = {kind: (count, total or 0) for kind, count, total in c.execute(
            sa.select(items.c.kind, sa.func.count(), sa.func.sum(items.c.amount)).where(
                items.c.source_id == source_id, items.c.status == "open",
            ).group_by(items.c.kind))}
    return [f"{kind.value:<32} {rows.get(kind.value, (0, 0))[0]:>5,}  "
            f"${rows.get(kind.value, (0, 0))[1] / 100:>12,.2f}" for kind in ItemKind]
