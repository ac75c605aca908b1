"""sessions that sign-out ends, sign-in throttling instead of lockout, confirmation links
that a later unsubscribe ends

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
        # Failed sign-ins are counted per address and client in the rate-limit store now.
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    # Links sent before this carry no version (read as 0): those of subscribers who have left
    # must not bring them back.
    op.execute("UPDATE subscriptions SET version = 1 WHERE status = 'unsubscribed'")


def downgrade():
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.drop_column("session_version")
