"""A message to a posts address is kept once: a redelivery of it is the same post

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("held_posts") as batch_op:
        batch_op.add_column(sa.Column("message_key", sa.String(64), nullable=True))
        batch_op.create_unique_constraint(
            "held_posts_list_id_message_key_key", ["list_id", "message_key"]
        )


def downgrade():
    with op.batch_alter_table("held_posts") as batch_op:
        batch_op.drop_constraint("held_posts_list_id_message_key_key", type_="unique")
        batch_op.drop_column("message_key")
