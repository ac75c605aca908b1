"""An issue's figures at an organisation's size: each bounce keeps its delivery's issue, so an
issue's bounces are counted from an index on (issue_id, kind, reason) instead of a join
through all its copies; a sent issue's copy counts are kept on it (final_counts), not
counted again on every look; partial indexes on the copies clicked and opened, and an index
on (link_id, likely_machine), count clickers, openers and each link's clicks from the
indexes alone

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# How SQLite's batch mode names the unnamed foreign keys it reflects (as 0022).
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade():
    # Bounces is no table's parent: SQLite's batch copy of it deletes nothing elsewhere.
    with op.batch_alter_table("bounces", naming_convention=SQLITE_NAMES) as batch:
        batch.add_column(sa.Column("issue_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_bounces_issue_id_issues", "issues", ["issue_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(
        "UPDATE bounces SET issue_id = (SELECT issue_id FROM deliveries"
        " WHERE deliveries.id = bounces.delivery_id) WHERE delivery_id IS NOT NULL"
    )
    op.create_index("ix_bounces_issue_kind_reason", "bounces", ["issue_id", "kind", "reason"])
    for kind in ("clicked", "opened"):
        op.create_index(
            f"ix_deliveries_{kind}",
            "deliveries",
            ["issue_id", f"{kind}_by_machine"],
            postgresql_where=sa.text(f"{kind}_at IS NOT NULL"),
            sqlite_where=sa.text(f"{kind}_at IS NOT NULL"),
        )
    op.create_index("ix_link_clicks_link_machine", "link_clicks", ["link_id", "likely_machine"])
    op.drop_index("ix_link_clicks_link_id", table_name="link_clicks")
    op.add_column("issues", sa.Column("final_counts", sa.JSON(), nullable=True))
    _keep_final_counts()


def _keep_final_counts():
    """Sent issues' counts, as ledger.keep_final_counts keeps them; not those pruned, whose
    figures keep them."""
    issues = sa.table(
        "issues",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("figures", sa.JSON),
        sa.column("final_counts", sa.JSON),
    )
    deliveries = sa.table("deliveries", sa.column("issue_id"), sa.column("status"))
    finished = sa.select(issues.c.id).where(issues.c.status == "sent", issues.c.figures.is_(None))
    bind = op.get_bind()
    counts = {issue_id: {} for issue_id in bind.scalars(finished)}
    rows = bind.execute(
        sa.select(deliveries.c.issue_id, deliveries.c.status, sa.func.count())
        .where(deliveries.c.issue_id.in_(finished))
        .group_by(deliveries.c.issue_id, deliveries.c.status)
    )
    for issue_id, status, n in rows:
        counts[issue_id][status] = n
    if not counts:
        return
    bind.execute(
        sa.update(issues)
        .where(issues.c.id == sa.bindparam("issue"))
        .values(final_counts=sa.bindparam("counts", type_=sa.JSON)),
        [
            {
                "issue": issue_id,
                "counts": {
                    **{key: by_status.get(key, 0) for key in ("sent", "failed", "pending")},
                    "total": sum(by_status.values()),
                },
            }
            for issue_id, by_status in counts.items()
        ],
    )


def downgrade():
    op.drop_column("issues", "final_counts")
    op.create_index("ix_link_clicks_link_id", "link_clicks", ["link_id"])
    op.drop_index("ix_link_clicks_link_machine", table_name="link_clicks")
    for kind in ("clicked", "opened"):
        op.drop_index(f"ix_deliveries_{kind}", table_name="deliveries")
    op.drop_index("ix_bounces_issue_kind_reason", table_name="bounces")
    with op.batch_alter_table("bounces", naming_convention=SQLITE_NAMES) as batch:
        batch.drop_constraint("fk_bounces_issue_id_issues", type_="foreignkey")
        batch.drop_column("issue_id")
