"""core: usage_ledger.guardrail_events, what the injection guardrails did per request

Revision ID: 0008_guardrail_events
Revises: 0007_ledger_correlation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_guardrail_events"
down_revision: str | Sequence[str] | None = "0007_ledger_correlation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("guardrail_events", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("guardrail_events")
