"""Pages at an organisation's size: a page of posts, newest first, walks an index to its
page instead of sorting every post (the admin's posts page and GET /api/v1/posts); the
dashboard counts each list's confirmed subscribers from an index on (list_id, status), which
also serves what the index on list_id did, and reads its weeks of joins and leaves through
indexes on confirmed_at and unsubscribed_at instead of every subscription

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

DATED = "coalesce(published_at, first_seen_at)"


def upgrade():
    op.execute(f"CREATE INDEX ix_posts_list_dated ON posts (list_id, {DATED}, id)")
    op.execute(f"CREATE INDEX ix_posts_dated ON posts ({DATED}, id)")
    op.create_index("ix_subscriptions_list_status", "subscriptions", ["list_id", "status"])
    op.drop_index("ix_subscriptions_list_id", table_name="subscriptions")
    op.create_index("ix_subscriptions_confirmed_at", "subscriptions", ["confirmed_at"])
    op.create_index("ix_subscriptions_unsubscribed_at", "subscriptions", ["unsubscribed_at"])


def downgrade():
    op.drop_index("ix_subscriptions_unsubscribed_at", table_name="subscriptions")
    op.drop_index("ix_subscriptions_confirmed_at", table_name="subscriptions")
    op.create_index("ix_subscriptions_list_id", "subscriptions", ["list_id"])
    op.drop_index("ix_subscriptions_list_status", table_name="subscriptions")
    op.drop_index("ix_posts_dated", table_name="posts")
    op.drop_index("ix_posts_list_dated", table_name="posts")
