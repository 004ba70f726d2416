"""Contract events: reads of deprecated contract versions, blocked writes.

Revision ID: contracts_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from headwater.ledger.schema import UtcDateTime

revision = "contracts_0001"
down_revision = None
branch_labels = ("contracts",)
depends_on = "0001_ledger"


def upgrade() -> None:
    op.create_table(
        "contract_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("consumer", sa.String(200)),
        sa.Column("run_id", sa.String(36)),
        sa.Column("step_id", sa.String(36)),
        sa.Column("message", sa.Text()),
    )
    op.create_index("ix_contract_events_product", "contract_events", ["product", "at"])


def downgrade() -> None:
    op.drop_index("ix_contract_events_product", "contract_events")
    op.drop_table("contract_events")
