"""sending at scale: retry times, error streaks, a claim-order index

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("retry_at", sa.DateTime(), nullable=True))
        batch.drop_index("ix_deliveries_issue_status")
        batch.create_index(
            "ix_deliveries_issue_status_subscriber", ["issue_id", "status", "subscriber_id"]
        )
        batch.create_index(
            "ix_deliveries_claim",
            ["claim"],
            postgresql_where=sa.text("claim IS NOT NULL"),
            sqlite_where=sa.text("claim IS NOT NULL"),
        )
    with op.batch_alter_table("issues") as batch:
        batch.add_column(
            sa.Column("error_streak", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("pause_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("pause_reason")
        batch.drop_column("error_streak")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_claim")
        batch.drop_index("ix_deliveries_issue_status_subscriber")
        batch.create_index("ix_deliveries_issue_status", ["issue_id", "status"])
        batch.drop_column("retry_at")
