"""core: usage_ledger.correlation_id, the caller's X-Request-ID kept beside the server's key

Revision ID: 0007_ledger_correlation
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_ledger_correlation"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("correlation_id", sa.String(64), nullable=True))
    op.create_index(
        "ix_usage_ledger_client_correlation", "usage_ledger", ["client_id", "correlation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_client_correlation", table_name="usage_ledger")
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("correlation_id")
