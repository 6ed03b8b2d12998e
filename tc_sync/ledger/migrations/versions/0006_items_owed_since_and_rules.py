"""Items: "owed since" may be unknown (a PMS row with a blank date, e.g. '0001-01-01');
reconcile state: the digest of the mappings the items were last evaluated under.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.alter_column("owed_since", existing_type=sa.Date(), nullable=True)
    with op.batch_alter_table("reconcile_state") as batch:
        batch.add_column(sa.Column("mappings_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconcile_state") as batch:
        batch.drop_column("mappings_digest")
    op.execute("UPDATE items SET owed_since = next_follow_up WHERE owed_since IS NULL")
    with op.batch_alter_table("items") as batch:
        batch.alter_column("owed_since", existing_type=sa.Date(), nullable=False)
