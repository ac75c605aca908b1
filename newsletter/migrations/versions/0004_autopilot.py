"""autopilot

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.add_column(
            sa.Column("autopilot", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("autopilot_send", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("autopilot_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.drop_column("autopilot_at")
        batch.drop_column("autopilot_send")
        batch.drop_column("autopilot")
