"""An erased subscriber's deliveries, bounces and clicks stay, naming no one: an issue's
figures (sent, opened, clicked, bounced) no longer fall when a reader is erased

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("deliveries", "bounces", "link_clicks")
# How SQLite's batch mode names the unnamed foreign keys it reflects.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _subscriber_key(table: str) -> str:
    found = sa.inspect(op.get_bind()).get_foreign_keys(table)
    name = next(k["name"] for k in found if k["constrained_columns"] == ["subscriber_id"])
    return name or f"fk_{table}_subscriber_id_subscribers"


def _point(table: str, ondelete: str, nullable: bool) -> None:
    key = _subscriber_key(table)
    with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch:
        batch.drop_constraint(key, type_="foreignkey")
        batch.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=nullable)
        batch.create_foreign_key(
            f"fk_{table}_subscriber_id_subscribers",
            "subscribers",
            ["subscriber_id"],
            ["id"],
            ondelete=ondelete,
        )


def upgrade():
    for table in TABLES:
        _point(table, "SET NULL", nullable=True)


def downgrade():
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE subscriber_id IS NULL"))
        _point(table, "CASCADE", nullable=table == "link_clicks")
