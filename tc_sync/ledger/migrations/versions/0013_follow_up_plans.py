"""Follow-up plans (issue 17). Whether a source's follow-ups are owed a plan: a change-hint
look reconciles without planning every open item's day (a second of work at 60,000 patients,
thousands of items moved by a day), and the next scan plans if anything changed since. When
the plan last moved an item (`planned_at`, not `updated_at`): the work queues move that row's
day without re-reading its patient.

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
    op.add_column("items", sa.Column("planned_at", sa.DateTime(), nullable=True))
    op.create_index("ix_items_source_planned", "items", ["source_id", "planned_at"])


def downgrade() -> None:
    op.drop_index("ix_items_source_planned", table_name="items")
    with op.batch_alter_table("items") as table:
        table.drop_column("planned_at")
    with op.batch_alter_table("reconcile_state") as table:
        table.drop_column("plan_owed")
