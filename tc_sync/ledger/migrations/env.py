"""Alembic environment: migrations run on the connection `tc_sync.ledger.db` hands over."""

from alembic import context

from tc_sync.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
