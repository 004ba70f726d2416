"""The run ledger: runs, steps and OpenLineage events.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from headwater.ledger.schema import UtcDateTime

revision = "0001_ledger"
down_revision = None
branch_labels = ("ledger",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("command", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(200)),
        sa.Column("args", sa.JSON),
    )
    op.create_table(
        "steps",
        sa.Column("step_id", sa.String(36), primary_key=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("lane", sa.String(20), nullable=False),
        sa.Column("partition", sa.String(100)),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("queued_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("rows_read", sa.BigInteger),
        sa.Column("rows_written", sa.BigInteger),
        sa.Column("bytes_read", sa.BigInteger),
        sa.Column("bytes_written", sa.BigInteger),
        sa.Column("cpu_seconds", sa.Float),
        sa.Column("peak_memory_bytes", sa.BigInteger),
        sa.Column("input_snapshots", sa.JSON),
        sa.Column("output_snapshot_id", sa.BigInteger),
        sa.Column("data_time", UtcDateTime),
        sa.Column("error", sa.Text),
        sa.Column("details", sa.JSON),
    )
    op.create_index("ix_steps_product_finished", "steps", ["product", "finished_at"])
    op.create_index("ix_steps_run", "steps", ["run_id"])
    op.create_table(
        "lineage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(20), nullable=False),
        sa.Column("event_time", UtcDateTime, nullable=False),
        sa.Column("job_namespace", sa.String(500), nullable=False),
        sa.Column("job_name", sa.String(500), nullable=False),
        sa.Column("producer", sa.Text),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "event_type", "event_time", "job_namespace", "job_name",
                            name="uq_lineage_events_identity"),
    )
    op.create_index("ix_lineage_events_job", "lineage_events", ["job_namespace", "job_name"])


def downgrade() -> None:
    op.drop_table("lineage_events")
    op.drop_index("ix_steps_run", "steps")
    op.drop_index("ix_steps_product_finished", "steps")
    op.drop_table("steps")
    op.drop_table("runs")
