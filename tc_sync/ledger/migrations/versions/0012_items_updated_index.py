"""Items by when they were last written: the work queues re-read the patients whose items
changed since their last build (issue 17).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_source_updated", "items", ["source_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_items_source_updated", table_name="items")
