"""Replicas for the coordinator's further duties: lab cases and labs, referrals, insurance
verification, the procedures on treatment plans (saved and attached) and the users who present
them; treatment plans gain their presenter.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID, _TEXT, _DATE, _TIME, _FLAG = sa.BigInteger, sa.Text, sa.Date, sa.DateTime, sa.Boolean
_CODE = sa.String(length=40)

_TABLES: dict[str, list[tuple[str, object, bool]]] = {
    # name: [(column, type, nullable)] between the key and the replica's own columns
    "saved_plan_procedures": [("plan_id", _ID, False), ("patient_id", _ID, False),
                              ("procedure_id", _ID, True), ("code", _TEXT, False),
                              ("fee", _ID, False), ("changed_at", _TIME, True)],
    "plan_attachments": [("plan_id", _ID, False), ("patient_id", _ID, False),
                         ("procedure_id", _ID, False)],
    "lab_cases": [("patient_id", _ID, False), ("lab_id", _ID, True),
                  ("appointment_id", _ID, True), ("planned_appointment_id", _ID, True),
                  ("due_at", _TIME, True), ("created_at", _TIME, True), ("sent_at", _TIME, True),
                  ("received_at", _TIME, True), ("checked_at", _TIME, True),
                  ("provider_id", _ID, True), ("changed_at", _TIME, True)],
    "laboratories": [("name", _TEXT, False), ("phone", _TEXT, False), ("hidden", _FLAG, False)],
    "referral_attachments": [("patient_id", _ID, False), ("referral_id", _ID, True),
                             ("direction", _CODE, False), ("status", _CODE, False),
                             ("referred_on", _DATE, True), ("procedure_id", _ID, True),
                             ("procedure_completed_on", _DATE, True),
                             ("provider_id", _ID, True), ("changed_at", _TIME, True)],
    "referrals": [("last_name", _TEXT, False), ("first_name", _TEXT, False),
                  ("is_organization", _FLAG, False), ("specialty_id", _ID, True),
                  ("phone", _TEXT, False), ("email", _TEXT, False), ("hidden", _FLAG, False),
                  ("changed_at", _TIME, True)],
    "insurance_verifications": [("verify_type", _CODE, False), ("target_id", _ID, True),
                                ("verified_on", _DATE, True), ("status_id", _ID, True),
                                ("changed_at", _TIME, True)],
    "users": [("name", _TEXT, False), ("hidden", _FLAG, False)],
}
_BY_PATIENT = ("saved_plan_procedures", "plan_attachments", "lab_cases", "referral_attachments")
_LIVE_KEYS = ("saved_plan_procedures", "lab_cases", "referral_attachments",
              "insurance_verifications")


def _type(kind: object) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return kind if isinstance(kind, sa.types.TypeEngine) else kind()  # type: ignore[operator]


def upgrade() -> None:
    for name, columns in _TABLES.items():
        op.create_table(
            name,
            sa.Column("source_id", sa.String(length=64), nullable=False),
            sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
            *[sa.Column(column, _type(kind), nullable=nullable)
              for column, kind, nullable in columns],
            sa.Column("first_seen", sa.DateTime(), nullable=False),
            sa.Column("last_changed", sa.DateTime(), nullable=False),
            sa.Column("deleted_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("source_id", "pms_id"),
        )
    for name in _BY_PATIENT:
        op.create_index(f"ix_{name}_source_id_patient_id", name, ["source_id", "patient_id"])
    op.create_index("ix_insurance_verifications_source_id_target_id", "insurance_verifications",
                    ["source_id", "target_id"])
    live = sa.text("deleted_at IS NULL")
    for name in _LIVE_KEYS:
        op.create_index(f"ix_{name}_live", name, ["source_id", "pms_id"],
                        sqlite_where=live, postgresql_where=live)
    with op.batch_alter_table("treatment_plans") as batch:
        batch.add_column(sa.Column("presenter_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("treatment_plans") as batch:
        batch.drop_column("presenter_id")
    for name in _TABLES:
        op.drop_table(name)
