"""Ledger tables (SQLAlchemy Core). Migrations in `tc_sync.ledger.migrations` create them.

Replica tables mirror the canonical records (one column per record field) keyed by source and
PMS id, with when each row was first seen, last changed and (if the PMS deleted it) deleted.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from tc_sync import records

metadata = sa.MetaData()


class Money(sa.types.TypeDecorator[Decimal]):
    """Money stored as whole cents (the records' `Cents`), read back as Decimal dollars."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        """Dollars in a query (``fee > 100`` means $100) become cents."""
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(-2)


REPLICA_TABLES: dict[type, str] = {
    records.Patient: "patients",
    records.ProcedureCode: "procedure_codes",
    records.Procedure: "procedures",
    records.Appointment: "appointments",
    records.TreatmentPlan: "treatment_plans",
    records.Claim: "claims",
    records.ClaimProcedure: "claim_procedures",
    records.Coverage: "coverages",
    records.CoverageCategory: "coverage_categories",
    records.CoverageSpan: "coverage_spans",
    records.Benefit: "benefits",
    records.Contact: "contacts",
    records.ClaimTrackingEntry: "claim_tracking",
    records.Definition: "definitions",
    records.Provider: "providers",
    records.Clinic: "clinics",
    records.SavedPlanProcedure: "saved_plan_procedures",
    records.PlanAttachment: "plan_attachments",
    records.LabCase: "lab_cases",
    records.Laboratory: "laboratories",
    records.ReferralAttachment: "referral_attachments",
    records.Referral: "referrals",
    records.InsuranceVerification: "insurance_verifications",
    records.User: "users",
}
"""The replica table of each record type."""

REPLICA_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "procedures": [("source_id", "patient_id")],
    "appointments": [("source_id", "patient_id")],
    "treatment_plans": [("source_id", "patient_id")],
    "claims": [("source_id", "patient_id")],
    "claim_procedures": [("source_id", "claim_id"), ("source_id", "patient_id")],
    "coverages": [("source_id", "patient_id")],
    "benefits": [("source_id", "plan_id")],
    "contacts": [("source_id", "patient_id")],
    "claim_tracking": [("source_id", "patient_id")],
    "saved_plan_procedures": [("source_id", "patient_id")],
    "plan_attachments": [("source_id", "patient_id")],
    "lab_cases": [("source_id", "patient_id")],
    "referral_attachments": [("source_id", "patient_id")],
    "insurance_verifications": [("source_id", "target_id")],
}


LIVE_KEY_INDEXES = ("appointments", "treatment_plans", "claims", "claim_procedures", "coverages",
                    "benefits", "contacts", "claim_tracking", "saved_plan_procedures",
                    "lab_cases", "referral_attachments", "insurance_verifications")
"""Replica tables of streams the PMS hard-deletes from: an index of their live keys makes the
delete check's counts per key window index-only."""


def column_type(annotation: Any) -> sa.types.TypeEngine[Any]:
    """The ledger column type of a record field's annotation."""
    base = annotation
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if args:
        base = args[0]
    if base is records.Cents:
        return Money()
    if isinstance(base, type) and issubclass(base, StrEnum):
        return sa.String(40)
    types: dict[type, sa.types.TypeEngine[Any]] = {
        int: sa.BigInteger(), str: sa.Text(), bool: sa.Boolean(),
        date: sa.Date(), datetime: sa.DateTime(),
    }
    return types[base]


def _replica_table(record: type, name: str) -> sa.Table:
    hints = typing.get_type_hints(record)
    columns: list[sa.Column[Any]] = [
        sa.Column("source_id", sa.String(64), primary_key=True),
        sa.Column("pms_id", sa.BigInteger, primary_key=True, autoincrement=False),
    ]
    for field in dataclasses.fields(record):
        if field.name == "pms_id":
            continue
        annotation = hints[field.name]
        nullable = type(None) in typing.get_args(annotation)
        columns.append(sa.Column(field.name, column_type(annotation), nullable=nullable))
    columns += [
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_changed", sa.DateTime, nullable=False),
        sa.Column("deleted_at", sa.DateTime, nullable=True),
    ]
    table = sa.Table(name, metadata, *columns)
    sa.Index(f"ix_{name}_changed", table.c.source_id, table.c.last_changed)
    for index_columns in REPLICA_INDEXES.get(name, []):
        sa.Index(f"ix_{name}_{'_'.join(index_columns)}", *[table.c[c] for c in index_columns])
    if name in LIVE_KEY_INDEXES:
        live = table.c.deleted_at.is_(None)
        sa.Index(f"ix_{name}_live", table.c.source_id, table.c.pms_id,
                 sqlite_where=live, postgresql_where=live)
    return table


replica: dict[type, sa.Table] = {
    record: _replica_table(record, name) for record, name in REPLICA_TABLES.items()
}

sources = sa.Table(
    "sources", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("pms_version", sa.String(32), nullable=True),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
)

cursors = sa.Table(
    "cursors", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    sa.Column("since", sa.DateTime, nullable=True),
    sa.Column("last_full_pull", sa.DateTime, nullable=True),
    sa.Column("pull_mode", sa.String(16), nullable=True),
    sa.Column("pull_since", sa.DateTime, nullable=True),
    sa.Column("pull_started_at", sa.DateTime, nullable=True),
    sa.Column("pull_after_key", sa.BigInteger, nullable=True),
    sa.Column("pull_until_key", sa.BigInteger, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

sync_runs = sa.Table(
    "sync_runs", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("error_class", sa.String(128), nullable=True),
    sa.Column("error_detail", sa.Text, nullable=True),
    sa.Column("pms_version", sa.String(32), nullable=True),
    sa.Column("rows_read", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_inserted", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_updated", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_deleted", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_quarantined", sa.BigInteger, nullable=False, default=0),
    sa.Column("statements", sa.BigInteger, nullable=False, default=0),
    sa.Column("longest_statement_ms", sa.Integer, nullable=False, default=0),
    sa.Index("ix_sync_runs_source_started", "source_id", "started_at"),
)

sync_run_streams = sa.Table(
    "sync_run_streams", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("sync_runs.run_id"), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("rows_read", sa.BigInteger, nullable=False),
    sa.Column("rows_inserted", sa.BigInteger, nullable=False),
    sa.Column("rows_updated", sa.BigInteger, nullable=False),
    sa.Column("rows_deleted", sa.BigInteger, nullable=False),
    sa.Column("rows_quarantined", sa.BigInteger, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    sa.Column("pms_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pms_table", sa.String(64), nullable=False),
    sa.Column("field", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("row_data", sa.Text, nullable=True),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("times_seen", sa.Integer, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("released_at", sa.DateTime, nullable=True),
)
"""Rows that failed validation: kept (with the PMS row, for staff only) until a good copy
arrives, which sets released_at."""

items = sa.Table(
    "items", metadata,
    sa.Column("item_key", sa.String(200), primary_key=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("patient_id", sa.BigInteger, nullable=False),
    sa.Column("claim_id", sa.BigInteger, nullable=True),
    sa.Column("appointment_id", sa.BigInteger, nullable=True),
    sa.Column("clinic_id", sa.BigInteger, nullable=True),
    sa.Column("provider_id", sa.BigInteger, nullable=True),
    sa.Column("amount", sa.BigInteger, nullable=True),
    sa.Column("codes", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("owed_since", sa.Date, nullable=True),      # None: the PMS date is blank
    sa.Column("next_follow_up", sa.Date, nullable=False),   # planned: within capacity
    sa.Column("due_on", sa.Date, nullable=True),            # the cadence's day
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_contact_at", sa.DateTime, nullable=True),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("snoozed_until", sa.Date, nullable=True),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("resolved_at", sa.DateTime, nullable=True),
    sa.Column("resolution", sa.String(32), nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False, server_default="1"),
    sa.Column("planned_at", sa.DateTime, nullable=True),
    sa.Index("ix_items_source_patient", "source_id", "patient_id"),
    sa.Index("ix_items_source_status_queue", "source_id", "status", "queue"),
    sa.Index("ix_items_source_updated", "source_id", "updated_at"),
    sa.Index("ix_items_source_planned", "source_id", "planned_at"),
)
"""One row per follow-up ever owed (natural key kind:source:subject); never deleted.
`amount` is cents; `codes` space-separated; `details` JSON of kind-specific facts;
`episode` counts the times the item opened (a reopened item is a new follow-up: a new task).
Every write stamps `updated_at`, but the follow-up plan's moves of `next_follow_up`, which stamp
`planned_at`: the work queues re-read a patient whose item was written, and only move the
day of one the plan moved (a plan can move thousands)."""

item_events = sa.Table(
    "item_events", metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_key", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Index("ix_item_events_key", "item_key"),
    sa.Index("ix_item_events_event_at", "event", "at"),
)
"""An item's history: opened, changed, contacted, escalated, resolved, reopened..."""

reconcile_state = sa.Table(
    "reconcile_state", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("changes_through", sa.DateTime, nullable=True),
    sa.Column("last_full_evaluation", sa.Date, nullable=True),
    sa.Column("mappings_digest", sa.String(64), nullable=True),
    sa.Column("plan_owed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("planned_at", sa.DateTime, nullable=True),
)
"""How far each source's replica changes have been reconciled into items, and under which
rules (a digest of the mappings: other rules re-evaluate every patient); whether items
changed since the follow-ups were last planned (a change-hint look leaves that to a scan),
and when they were."""

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("item_key", sa.String(200), nullable=True),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("verify_first", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.DateTime, nullable=True),
    sa.Column("external_id", sa.String(64), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("done_at", sa.DateTime, nullable=True),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_outbox_item", "item_key"),
)
"""Actions owed to the outside world (create or close a task, send an alert), written in the
same transaction as the item change that causes them; `idempotency_key` makes each one once.
Statuses: pending, in_flight, retry, sent, dead, cancelled. `verify_first`: the action may have
reached its target already (a crash or a timeout after sending): look for its marker first."""

source_leases = sa.Table(
    "source_leases", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("acquired_at", sa.DateTime, nullable=False),
    sa.Column("renewed_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)
"""On a PostgreSQL ledger, the daemon (host:pid:nonce) syncing each source. The holder renews
its lease while it runs; a lease not renewed by `expires_at` (its daemon killed, its server
off) may be taken by another daemon. Times are the database server's, in UTC."""

queue_builds = sa.Table(
    "queue_builds", metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("built_at", sa.DateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("problem", sa.Text, nullable=True),
    sa.Column("open_items", sa.Integer, nullable=True),
)
"""The last work-queue build after each source's cycle (`ok`, or `failed` with why: a sentence
naming the folder, never a patient), so a group's health page shows the queues of practices
other agents run. UTC, naive."""
