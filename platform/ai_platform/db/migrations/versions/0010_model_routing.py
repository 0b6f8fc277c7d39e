"""core: model routing — usage_ledger.hops (the deployments a routed call tried and how
each ended) and clients.allowed_models (the models a client may ask for; null: any)

Also joins the two heads before it (the ledger's guardrail events and the agent's
pending actions) into one history.

Revision ID: 0010_model_routing
Revises: 0008_guardrail_events, 0009_agent_actions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_model_routing"
down_revision: str | Sequence[str] | None = ("0008_guardrail_events", "0009_agent_actions")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("hops", sa.String(300), nullable=True))
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("allowed_models", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("allowed_models")
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("hops")
