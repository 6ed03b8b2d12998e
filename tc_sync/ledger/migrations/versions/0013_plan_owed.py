"""Whether a source's follow-ups are owed a plan: a change-hint look reconciles without
planning every open item's day (a second of work at 60,000 patients, thousands of items moved
by a day), and the next scan plans if anything changed since (issue 17).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reconcile_state") as table:
        table.add_column(sa.Column("plan_owed", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("reconcile_state") as table:
        table.drop_column("plan_owed")
