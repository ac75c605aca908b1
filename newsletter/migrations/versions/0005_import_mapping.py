"""import column mapping

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("mapping", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("mapping")
