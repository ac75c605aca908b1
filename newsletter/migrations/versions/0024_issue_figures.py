"""An issue's figures kept on it once `newsletter prune --deliveries` deletes its copies and
their clicks

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("figures", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("figures")
