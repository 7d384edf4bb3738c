"""Alembic's environment for Sportello: migrations run on the connection that
``bot.storage.db.Database`` opened (SQLite or PostgreSQL), never on one of their own."""

from __future__ import annotations

from alembic import context

from bot.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Sportello's migrations run when the program opens its database "
        "(sportello db migrate), not from the alembic command alone"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite changes a table by copying it: Alembic's batch mode does that for us.
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
