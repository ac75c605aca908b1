"""privacy-first analytics: a list's tracking settings, a subscriber's opt-out, an issue's
links and their clicks, each delivery's first click and open

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.add_column(
            sa.Column("track_clicks", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        for column in ("track_opens", "track_subscribers"):
            batch.add_column(
                sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("no_tracking", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("clicked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "issue_id",
            sa.Integer(),
            sa.ForeignKey("issues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.UniqueConstraint("issue_id", "position", name="uq_issue_links_issue_id"),
    )
    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "link_id",
            sa.Integer(),
            sa.ForeignKey("issue_links.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("clicked_at", sa.DateTime(), nullable=False),
        sa.Column(
            "subscriber_id",
            sa.Integer(),
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_index("ix_link_clicks_link_id", "link_clicks", ["link_id"])
    op.create_index("ix_link_clicks_subscriber_id", "link_clicks", ["subscriber_id"])


def downgrade():
    op.drop_table("link_clicks")
    op.drop_table("issue_links")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("opened_at")
        batch.drop_column("clicked_at")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("no_tracking")
    with op.batch_alter_table("mailing_lists") as batch:
        for column in ("track_subscribers", "track_opens", "track_clicks"):
            batch.drop_column(column)
