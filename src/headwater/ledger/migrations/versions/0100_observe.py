"""observe: alerts, incidents, incident timelines, postmortems, known outliers.

Revision ID: 0100_observe
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from headwater.ledger.schema import UtcDateTime

revision = "0100_observe"
down_revision = None
branch_labels = ("observe",)
depends_on = "0001_ledger"


def upgrade() -> None:
    op.create_table(
        "observe_incidents",
        sa.Column("incident_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("root", sa.String(200), nullable=False),
        sa.Column("root_kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("detected_at", UtcDateTime, nullable=False),
        sa.Column("last_alert_at", UtcDateTime, nullable=False),
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("affected", sa.JSON),
        sa.PrimaryKeyConstraint("incident_id", name="pk_observe_incidents"),
    )
    op.create_table(
        "observe_alerts",
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("sli", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime),
        sa.Column("fired_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey(
            "observe_incidents.incident_id", name="fk_observe_alerts_incident_id_observe_incidents")),
        sa.Column("details", sa.JSON),
        sa.PrimaryKeyConstraint("alert_id", name="pk_observe_alerts"),
    )
    op.create_index("ix_observe_alerts_key_state", "observe_alerts", ["key", "state"])
    op.create_table(
        "observe_incident_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey(
            "observe_incidents.incident_id",
            name="fk_observe_incident_events_incident_id_observe_incidents"), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_observe_incident_events"),
    )
    op.create_table(
        "observe_postmortems",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey(
            "observe_incidents.incident_id",
            name="fk_observe_postmortems_incident_id_observe_incidents"), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("impact", sa.Text),
        sa.Column("root_cause", sa.Text),
        sa.Column("category", sa.String(100)),
        sa.Column("timeline", sa.JSON),
        sa.Column("action_items", sa.JSON),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_observe_postmortems"),
    )
    op.create_table(
        "observe_outliers",
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_observe_outliers"),
    )


def downgrade() -> None:
    for table in ("observe_outliers", "observe_postmortems", "observe_incident_events",
                  "observe_alerts", "observe_incidents"):
        op.drop_table(table)
