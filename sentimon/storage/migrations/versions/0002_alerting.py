"""alerting: detector state per topic, who resolved an alert, delivery event and target

Revision ID: 0002_alerting
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_alerting"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_detector_state",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("last_window", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_alert_detector_state_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "kind", name=op.f("pk_alert_detector_state")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("target", sa.String(length=512), nullable=True))
        batch_op.create_index("ix_alert_deliveries_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_status")
        batch_op.drop_column("target")
        batch_op.drop_column("event")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("notified_at")
        batch_op.drop_column("resolved_by")
    op.drop_table("alert_detector_state")
