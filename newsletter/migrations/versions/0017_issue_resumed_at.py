"""When an issue was last resumed: refusals of mail sent before it no longer count towards
pausing it again

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("resumed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("resumed_at")
