"""A/B subjects: an issue's variants, its test share, wait and winner; each delivery's
variant

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issue_variants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.UniqueConstraint("issue_id", "position"),
    )
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("ab_share", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ab_wait_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ab_decide_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("ab_winner", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("variant_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("variant_id")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("ab_winner")
        batch.drop_column("ab_decide_at")
        batch.drop_column("ab_wait_minutes")
        batch.drop_column("ab_share")
    op.drop_table("issue_variants")
