"""Claims: when their custom tracking status was set (Open Dental's "days suppressed").

Claims already in the replica get the value when the PMS row is next read (the nightly full
sweep reads every claim; an incremental pull, those whose claim or status history changed).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("custom_tracking_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("custom_tracking_since")
