"""`tc-sync demo`: build (or reuse) a synthetic Open Dental practice and sync it.

The practice is an Open Dental-shaped SQLite file read through the same adapter SQL as a real
Open Dental database; the ledger is a SQLite file beside it. Nothing here is real patient data.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tc_sync.commands.sync import print_results
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.ledger.db import LedgerError, open_ledger
from tc_sync.ledger.schema import replica
from tc_sync.records import Appointment, Claim, Coverage, Patient, Procedure
from tc_sync.sync import sync_all

DEMO_SOURCE = "demo"


def demo_settings(folder: Path) -> Settings:
    """The embedded configuration: one Open Dental source read from the demo file."""
    return settings_from_mapping({
        "site_id": "demo-practice",
        "ledger": {"url": f"sqlite:///{(folder / 'ledger.db').resolve()}"},
        "sources": {DEMO_SOURCE: {
            "kind": "opendental",
            "connection": {"driver": "sqlite", "path": str((folder / "practice.db").resolve())},
        }},
    }, label="<tc-sync demo>")


def build_practice(folder: Path, fresh: bool) -> bool:
    """Create the demo practice file unless it exists; True when it was built now."""
    from tc_sync.demo.practice import PracticeSpec, write_sqlite

    practice = folder / "practice.db"
    if fresh:
        for name in ("practice.db", "ledger.db", "ledger.db-wal", "ledger.db-shm"):
            (folder / name).unlink(missing_ok=True)
    if practice.exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    write_sqlite(practice, PracticeSpec(today=date.today()))
    return True


def _counts(connection: sa.Connection, column: sa.Column[str],
            *where: sa.ColumnElement[bool]) -> dict[str, int]:
    query = sa.select(column, sa.func.count()).where(*where).group_by(column)
    return {str(value): int(count) for value, count in connection.execute(query)}


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


def run_demo(folder: Path, *, fresh: bool = False) -> int:
    built = build_practice(folder, fresh)
    settings = demo_settings(folder)
    print(f"demo practice: {folder / 'practice.db'} ({'built now' if built else 'reused'}; "
          "synthetic data)")
    try:
        engine = open_ledger(settings.ledger.url)
    except LedgerError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 1
    results = sync_all(engine, settings)
    print_results(results)
    print(f"ledger: {folder / 'ledger.db'}")
    for line in ledger_summary(engine, DEMO_SOURCE):
        print(f"  {line}")
    return 0 if all(result.outcome == "ok" for result in results) else 1
