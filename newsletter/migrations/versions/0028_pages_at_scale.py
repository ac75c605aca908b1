"""Pages of posts, newest first, walk an index to their page instead of sorting every post
of the list (50,000 posts: a sort of all of them on every view of the admin's posts page
and of GET /api/v1/posts)

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

DATED = "coalesce(published_at, first_seen_at)"


def upgrade():
    op.execute(f"CREATE INDEX ix_posts_list_dated ON posts (list_id, {DATED}, id)")
    op.execute(f"CREATE INDEX ix_posts_dated ON posts ({DATED}, id)")


def downgrade():
    op.drop_index("ix_posts_dated", table_name="posts")
    op.drop_index("ix_posts_list_dated", table_name="posts")
