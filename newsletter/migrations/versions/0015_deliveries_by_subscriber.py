"""Deliveries: one index fewer to write with every row a send changes; the unique pair
leads with the subscriber, so it finds a subscriber's deliveries as the dropped index did

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


# SQLite (the embedded fallback) keeps its layout: its unique pair has no name to drop it by,
# and a send there is not measured in index writes.
def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_unique_constraint(
        "uq_deliveries_subscriber_issue", "deliveries", ["subscriber_id", "issue_id"]
    )
    op.drop_constraint("deliveries_issue_id_subscriber_id_key", "deliveries", type_="unique")
    op.drop_index("ix_deliveries_subscriber_id", table_name="deliveries")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    op.create_unique_constraint(
        "deliveries_issue_id_subscriber_id_key", "deliveries", ["issue_id", "subscriber_id"]
    )
    op.drop_constraint("uq_deliveries_subscriber_issue", "deliveries", type_="unique")
