"""Batches hold ranges of subscribers, one row a batch, instead of writing their token into
every delivery they claim (a row version and an index entry a delivery)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "batch_claims",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column(
            "issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_batch_claims_issue_low", "batch_claims", ["issue_id", "low"])
    # A batch running while the upgrade runs loses its hold: its rows may be sent again once.
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_claim")
        batch.drop_column("claim")
        batch.drop_column("claimed_at")


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch.create_index(
            "ix_deliveries_claim",
            ["claim"],
            postgresql_where=sa.text("claim IS NOT NULL"),
            sqlite_where=sa.text("claim IS NOT NULL"),
        )
    op.drop_index("ix_batch_claims_issue_low", table_name="batch_claims")
    op.drop_table("batch_claims")
