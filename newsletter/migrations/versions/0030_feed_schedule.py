"""Each feed's own schedule: when it is next polled, what its site asked (Retry-After, a
floor on the interval), how many fetches in a row failed, when it last worked, and whether
its site said it is gone (410)

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = ("last_success_at", "next_fetch_at", "not_before", "gone_at")


# Plain ALTER TABLE, no batch: SQLite's batch mode copies the table and drops the old one.
def upgrade():
    for name in COLUMNS:
        op.add_column("feeds", sa.Column(name, sa.DateTime(), nullable=True))
    op.add_column("feeds", sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("feeds", sa.Column("min_interval", sa.Integer(), nullable=True))
    op.create_index("ix_feeds_next_fetch_at", "feeds", ["next_fetch_at"])
    # A feed that worked last time worked then.
    op.execute("UPDATE feeds SET last_success_at = last_fetched_at WHERE last_error IS NULL")


def downgrade():
    op.drop_index("ix_feeds_next_fetch_at", table_name="feeds")
    for name in ("min_interval", "failures", *COLUMNS):
        op.drop_column("feeds", name)
