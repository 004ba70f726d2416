"""Cost: reads served by query and the API, and budget alerts sent.

Revision ID: cost_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from headwater.ledger.schema import UtcDateTime

revision = "cost_0001"
down_revision = None
branch_labels = ("cost",)
depends_on = "0001_ledger"


def upgrade() -> None:
    op.create_table(
        "cost_reads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("reader", sa.String(200)),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("read_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_cost_reads_product_at", "cost_reads", ["product", "read_at"])
    op.create_table(
        "cost_budget_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("budget", sa.Float, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("scope", "name", "month", "kind", "threshold",
                            name="uq_cost_budget_alerts_identity"),
    )


def downgrade() -> None:
    op.drop_table("cost_budget_alerts")
    op.drop_index("ix_cost_reads_product_at", "cost_reads")
    op.drop_table("cost_reads")
