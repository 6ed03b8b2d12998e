"""What an attempt was: contacts say whether a program logged them and who did; claims'
tracking history (custom tracking statuses set by staff) is replicated. Items keep the day their
cadence makes them due apart from the day their follow-up is planned (next_follow_up). Tables
the PMS hard-deletes from get an index of their live keys, for the delete check.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LIVE_KEYS = ("appointments", "treatment_plans", "claims", "claim_procedures", "coverages",
              "benefits", "contacts", "claim_tracking")
"""Replica tables the delete check counts live keys of, per key window."""


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("automated", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "claim_tracking",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_type", sa.String(length=40), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )
    op.create_index("ix_claim_tracking_source_id_patient_id", "claim_tracking",
                    ["source_id", "patient_id"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
    for table in _LIVE_KEYS:
        live = sa.text("deleted_at IS NULL")
        op.create_index(f"ix_{table}_live", table, ["source_id", "pms_id"],
                        sqlite_where=live, postgresql_where=live)


def downgrade() -> None:
    for table in _LIVE_KEYS:
        op.drop_index(f"ix_{table}_live", table)
    with op.batch_alter_table("items") as batch:
        batch.drop_column("due_on")
    op.drop_index("ix_claim_tracking_source_id_patient_id", "claim_tracking")
    op.drop_table("claim_tracking")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("user_id")
        batch.drop_column("automated")
