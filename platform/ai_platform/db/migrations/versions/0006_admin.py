"""admin: index on usage_ledger.created_at for date-range usage reports

Revision ID: 0006_admin
Revises: 0001_core
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_admin"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("admin",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_usage_ledger_created_at", "usage_ledger", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_created_at", table_name="usage_ledger")
