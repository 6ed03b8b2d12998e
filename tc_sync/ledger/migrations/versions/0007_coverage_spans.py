"""Replica of the PMS's coverage spans (the code ranges of each coverage category).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage_spans",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("pms_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("from_code", sa.Text(), nullable=False),
        sa.Column("to_code", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_changed", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "pms_id"),
    )


def downgrade() -> None:
    op.drop_table("coverage_spans")
