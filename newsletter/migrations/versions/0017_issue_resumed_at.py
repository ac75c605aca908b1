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


# Plain ALTER TABLE, no batch: SQLite's batch mode copies the table and drops the old one,
# and with foreign keys on, dropping issues deletes every delivery by its cascade.
def upgrade():
    op.add_column("issues", sa.Column("resumed_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("issues", "resumed_at")
