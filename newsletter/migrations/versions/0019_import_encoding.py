"""How an imported file is written: as the editor chose, or as found in it

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch: see 0017.
def upgrade():
    op.add_column("imports", sa.Column("encoding", sa.String(20), nullable=True))


def downgrade():
    op.drop_column("imports", "encoding")
