"""Clicks and opens that look like a machine's (mail gateways' link scanners, Apple's
privacy proxy) are said apart: each click, and each copy whose clicks or opens so far all
look so

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch: SQLite's batch mode copies the table and drops the old one.
# A constant default is no rewrite on PostgreSQL; rows before this count as people's.
def upgrade():
    for table, column in (
        ("link_clicks", "likely_machine"),
        ("deliveries", "clicked_by_machine"),
        ("deliveries", "opened_by_machine"),
    ):
        op.add_column(
            table, sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    op.drop_column("deliveries", "opened_by_machine")
    op.drop_column("deliveries", "clicked_by_machine")
    op.drop_column("link_clicks", "likely_machine")
