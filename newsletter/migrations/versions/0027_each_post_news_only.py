"""Each post on its own only for news: a feed's first fetch (its back catalogue), posts
published long before they were seen, and posts past a day's limit are kept for the digest

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch: SQLite's batch mode copies the table and drops the old one.
def upgrade():
    op.add_column("feeds", sa.Column("first_fetched_at", sa.DateTime(), nullable=True))
    op.add_column("posts", sa.Column("each_post_skipped", sa.String(length=40), nullable=True))
    # Feeds fetched before now have had their first fetch.
    op.execute("UPDATE feeds SET first_fetched_at = last_fetched_at")


def downgrade():
    op.drop_column("posts", "each_post_skipped")
    op.drop_column("feeds", "first_fetched_at")
