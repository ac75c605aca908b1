"""why each bounce came back, and from which receiving domain

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bounces") as batch:
        batch.add_column(sa.Column("reason", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("domain", sa.String(255), nullable=False, server_default=""))
        batch.create_index("ix_bounces_domain", ["domain"])


def downgrade():
    with op.batch_alter_table("bounces") as batch:
        batch.drop_index("ix_bounces_domain")
        batch.drop_column("domain")
        batch.drop_column("status")
        batch.drop_column("reason")
