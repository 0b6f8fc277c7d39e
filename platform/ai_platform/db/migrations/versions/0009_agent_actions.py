"""agent: agent_actions, irreversible actions waiting for the client's confirmation

Revision ID: 0009_agent_actions
Revises: 0003_agent
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_agent_actions"
down_revision: str | Sequence[str] | None = "0003_agent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("customer_ref", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("amount_usd", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("executed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_actions")),
    )
    op.create_index(
        "ix_agent_actions_customer_time",
        "agent_actions",
        ["client_id", "customer_ref", "created_at"],
    )
    op.create_index(
        "ix_agent_actions_conversation", "agent_actions", ["client_id", "conversation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_agent_actions_conversation", table_name="agent_actions")
    op.drop_index("ix_agent_actions_customer_time", table_name="agent_actions")
    op.drop_table("agent_actions")
