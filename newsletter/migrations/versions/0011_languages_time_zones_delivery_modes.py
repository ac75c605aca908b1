"""languages, time zones and rhythms: a list's calendar, each-post delivery and its hold,
where the embed form may return to; a subscription's delivery mode; post issues and issues
sent at a local hour, with a render per language read; and each delivery's wave

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# How SQLite's batch mode names the unnamed (list_id, number) key it reflects.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _number_key() -> str:
    found = sa.inspect(op.get_bind()).get_unique_constraints("issues")
    name = next(c["name"] for c in found if c["column_names"] == ["list_id", "number"])
    return name or "uq_issues_list_id"  # SQLite's unnamed key, as SQLITE_NAMES names it


def upgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.add_column(
            sa.Column("calendar", sa.String(10), nullable=False, server_default="gregorian")
        )
        batch.add_column(
            sa.Column("each_post", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("each_post_hold", sa.Integer(), nullable=False, server_default="30")
        )
        batch.add_column(sa.Column("each_post_since", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("embed_return_urls", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(
            sa.Column("delivery", sa.String(6), nullable=False, server_default="digest")
        )
    # Digests and post issues are numbered apart: the old (list_id, number) key was made
    # without a name, so it is found by the name each database gave it.
    old_key = _number_key()
    with op.batch_alter_table("issues", naming_convention=SQLITE_NAMES) as batch:
        batch.drop_constraint(old_key, type_="unique")
        batch.add_column(sa.Column("kind", sa.String(6), nullable=False, server_default="digest"))
        batch.create_unique_constraint("uq_issues_list_kind_number", ["list_id", "kind", "number"])
        batch.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("local_time", sa.String(5), nullable=True))
        batch.add_column(sa.Column("local_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("renders", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_issues_post_id_posts", "posts", ["post_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_unique_constraint("uq_issues_post_id", ["post_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("not_before", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("not_before")
    with op.batch_alter_table("issues") as batch:
        batch.drop_constraint("uq_issues_list_kind_number", type_="unique")
        batch.create_unique_constraint("uq_issues_list_id_number", ["list_id", "number"])
        batch.drop_constraint("uq_issues_post_id", type_="unique")
        batch.drop_constraint("fk_issues_post_id_posts", type_="foreignkey")
        for column in ("renders", "local_date", "local_time", "post_id", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("delivery")
    with op.batch_alter_table("mailing_lists") as batch:
        for column in (
            "embed_return_urls",
            "each_post_since",
            "each_post_hold",
            "each_post",
            "calendar",
        ):
            batch.drop_column(column)
