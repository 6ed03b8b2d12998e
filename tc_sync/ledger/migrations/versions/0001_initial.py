"""Initial ledger: replica tables per canonical record, cursors, sync runs, quarantine.

Money columns are whole cents (BigInteger).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=True),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("hygienist_id", sa.BigInteger(), nullable=True),
        sa.Column("clinic_id", sa.BigInteger(), nullable=True),
        sa.Column("planned_from_id", sa.BigInteger(), nullable=True),
        sa.Column("unscheduled_status_id", sa.BigInteger(), nullable=True),
        sa.Column("planned_order", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_appointments_source_id_patient_id",
        "appointments",
        ["source_id", "patient_id"],
        unique=False,
    )
    op.create_table(
        "benefits",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("coverage_id", sa.BigInteger(), nullable=True),
        sa.Column("category_id", sa.BigInteger(), nullable=True),
        sa.Column("benefit_type", sa.String(length=40), nullable=False),
        sa.Column("percent", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("time_period", sa.String(length=40), nullable=False),
        sa.Column("quantity_qualifier", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=True),
        sa.Column("coverage_level", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_benefits_source_id_plan_id", "benefits", ["source_id", "plan_id"], unique=False
    )
    op.create_table(
        "claim_procedures",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("procedure_id", sa.BigInteger(), nullable=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("fee_billed", sa.BigInteger(), nullable=False),
        sa.Column("estimate", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("deductible_applied", sa.BigInteger(), nullable=False),
        sa.Column("write_off", sa.BigInteger(), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("date_paid", sa.Date(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_claim_procedures_source_id_claim_id",
        "claim_procedures",
        ["source_id", "claim_id"],
        unique=False,
    )
    op.create_index(
        "ix_claim_procedures_source_id_patient_id",
        "claim_procedures",
        ["source_id", "patient_id"],
        unique=False,
    )
    op.create_table(
        "claims",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("claim_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("date_service", sa.Date(), nullable=True),
        sa.Column("date_sent", sa.Date(), nullable=True),
        sa.Column("date_sent_original", sa.Date(), nullable=True),
        sa.Column("date_received", sa.Date(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("estimate", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("write_off", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("carrier_id", sa.BigInteger(), nullable=True),
        sa.Column("custom_tracking_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("clinic_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_claims_source_id_patient_id", "claims", ["source_id", "patient_id"], unique=False
    )
    op.create_table(
        "clinics",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("abbreviation", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_table(
        "contacts",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("contact_type_id", sa.BigInteger(), nullable=True),
        sa.Column("mode", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_contacts_source_id_patient_id", "contacts", ["source_id", "patient_id"], unique=False
    )
    op.create_table(
        "coverages",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=True),
        sa.Column("date_effective", sa.Date(), nullable=True),
        sa.Column("date_term", sa.Date(), nullable=True),
        sa.Column("group_name", sa.Text(), nullable=False),
        sa.Column("renewal_month", sa.BigInteger(), nullable=True),
        sa.Column("plan_type", sa.String(length=40), nullable=True),
        sa.Column("carrier_id", sa.BigInteger(), nullable=True),
        sa.Column("carrier_name", sa.Text(), nullable=False),
        sa.Column("carrier_phone", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_coverages_source_id_patient_id", "coverages", ["source_id", "patient_id"], unique=False
    )
    op.create_table(
        "cursors",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("last_full_pull", sa.DateTime(), nullable=True),
        sa.Column("pull_mode", sa.String(length=16), nullable=True),
        sa.Column("pull_since", sa.DateTime(), nullable=True),
        sa.Column("pull_started_at", sa.DateTime(), nullable=True),
        sa.Column("pull_after_key", sa.BigInteger(), nullable=True),
        sa.Column("pull_until_key", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "stream"),
    )
    op.create_table(
        "definitions",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("item_order", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_table(
        "patients",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("preferred_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("preferred_contact", sa.String(length=40), nullable=False),
        sa.Column("home_phone", sa.Text(), nullable=False),
        sa.Column("work_phone", sa.Text(), nullable=False),
        sa.Column("mobile_phone", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("guarantor_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("clinic_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_table(
        "procedure_codes",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("abbreviation", sa.Text(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_table(
        "procedures",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("code_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("base_units", sa.BigInteger(), nullable=False),
        sa.Column("tooth", sa.Text(), nullable=False),
        sa.Column("surface", sa.Text(), nullable=False),
        sa.Column("date_planned", sa.Date(), nullable=True),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("date_complete", sa.Date(), nullable=True),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("planned_appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("priority_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("clinic_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_procedures_source_id_patient_id",
        "procedures",
        ["source_id", "patient_id"],
        unique=False,
    )
    op.create_table(
        "providers",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("abbreviation", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("is_hygienist", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_table(
        "quarantine",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pms_table", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("row_data", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "stream", "pms_id"),
    )
    op.create_table(
        "sources",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("pms_version", sa.String(length=32), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_table(
        "sync_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error_class", sa.String(length=128), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("pms_version", sa.String(length=32), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_inserted", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("rows_deleted", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("statements", sa.BigInteger(), nullable=False),
        sa.Column("longest_statement_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index(
        "ix_sync_runs_source_started", "sync_runs", ["source_id", "started_at"], unique=False
    )
    op.create_table(
        "treatment_plans",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("date_presented", sa.Date(), nullable=True),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index(
        "ix_treatment_plans_source_id_patient_id",
        "treatment_plans",
        ["source_id", "patient_id"],
        unique=False,
    )
    op.create_table(
        "sync_run_streams",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_inserted", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("rows_deleted", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.run_id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "stream"),
    )


def downgrade() -> None:
    op.drop_table("sync_run_streams")
    op.drop_index("ix_treatment_plans_source_id_patient_id", table_name="treatment_plans")
    op.drop_table("treatment_plans")
    op.drop_index("ix_sync_runs_source_started", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("sources")
    op.drop_table("quarantine")
    op.drop_table("providers")
    op.drop_index("ix_procedures_source_id_patient_id", table_name="procedures")
    op.drop_table("procedures")
    op.drop_table("procedure_codes")
    op.drop_table("patients")
    op.drop_table("definitions")
    op.drop_table("cursors")
    op.drop_index("ix_coverages_source_id_patient_id", table_name="coverages")
    op.drop_table("coverages")
    op.drop_index("ix_contacts_source_id_patient_id", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("clinics")
    op.drop_index("ix_claims_source_id_patient_id", table_name="claims")
    op.drop_table("claims")
    op.drop_index("ix_claim_procedures_source_id_patient_id", table_name="claim_procedures")
    op.drop_index("ix_claim_procedures_source_id_claim_id", table_name="claim_procedures")
    op.drop_table("claim_procedures")
    op.drop_index("ix_benefits_source_id_plan_id", table_name="benefits")
    op.drop_table("benefits")
    op.drop_index("ix_appointments_source_id_patient_id", table_name="appointments")
    op.drop_table("appointments")
