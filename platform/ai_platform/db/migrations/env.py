"""Alembic environment: always handed a connection by ``ai_platform.db.migrate``."""

from __future__ import annotations

from alembic import context

from ai_platform.db.registry import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via ai_platform.db.migrate
    raise RuntimeError("run migrations with `ai-platform db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
