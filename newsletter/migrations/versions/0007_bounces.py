"""bounces, complaints and the suppression list

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("bounce_score", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("bounce_score_at", sa.DateTime(), nullable=True))
    op.create_table(
        "bounces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "subscriber_id",
            sa.Integer(),
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "delivery_id",
            sa.Integer(),
            sa.ForeignKey("deliveries.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_bounces_subscriber_id", "bounces", ["subscriber_id"])
    op.create_index("ix_bounces_delivery_id", "bounces", ["delivery_id"])
    op.create_table(
        "suppressions",
        sa.Column("email_hash", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("suppressions")
    op.drop_table("bounces")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("bounce_score_at")
        batch.drop_column("bounce_score")
