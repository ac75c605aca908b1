"""posts by email: mail to a list's posts address, held or published, and the senders an
editor always allows

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "held_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "list_id",
            sa.Integer(),
            sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("sender_name", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html_sanitised", sa.Text(), nullable=False),
        sa.Column("link", sa.String(2000), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column(
            "post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_held_posts_list_id", "held_posts", ["list_id"])
    op.create_index("ix_held_posts_status", "held_posts", ["status"])
    op.create_table(
        "allowed_senders",
        sa.Column(
            "list_id",
            sa.Integer(),
            sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("email", sa.String(254), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("allowed_senders")
    op.drop_index("ix_held_posts_status", table_name="held_posts")
    op.drop_index("ix_held_posts_list_id", table_name="held_posts")
    op.drop_table("held_posts")
