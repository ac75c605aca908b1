"""Receiving domains held back from an issue while they refuse our mail

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("issues", sa.Column("held_domains", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("issues", "held_domains")
