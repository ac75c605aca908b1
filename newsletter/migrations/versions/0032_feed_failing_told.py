"""When the editors were told a feed could not be read for a while (once a failing streak)

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("feeds", sa.Column("failing_told_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("feeds", "failing_told_at")
