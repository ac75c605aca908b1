"""An issue whose copies came back as dead addresses en masse, and what its editors decided

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("issues", sa.Column("mass_bounce", sa.JSON(), nullable=True))
    op.add_column("issues", sa.Column("dead_since", sa.DateTime(), nullable=True))
    op.add_column(
        "issues", sa.Column("dead_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "issues", sa.Column("dead_need", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("issues", sa.Column("dead_horizon", sa.DateTime(), nullable=True))
    op.create_index("ix_bounces_kind_received", "bounces", ["kind", "received_at"])


def downgrade():
    op.drop_index("ix_bounces_kind_received", table_name="bounces")
    for column in ("dead_horizon", "dead_need", "dead_count", "dead_since"):
        op.drop_column("issues", column)
    op.drop_column("issues", "mass_bounce")
