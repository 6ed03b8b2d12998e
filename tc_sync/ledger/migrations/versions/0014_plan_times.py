"""When a source's follow-ups were last planned (issue 17). A scan plans them at most hourly
(and on each day's first full evaluation, or under new rules): each plan at 60,000 patients
moved 16,000-23,000 items by a day, and the work queues made those rows again, every
five minutes.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reconcile_state") as table:
        table.add_column(sa.Column("planned_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconcile_state") as table:
        table.drop_column("planned_at")
