"""Autopilot handles one slot a week in the list's zone: the week of the slot it handled
last is kept, so that a slot or zone moved later in that week is not a second slot

Revision ID: 0023
Revises: 0022
"""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

LISTS = sa.table(
    "mailing_lists",
    sa.column("id", sa.Integer()),
    sa.column("timezone", sa.String()),
    sa.column("autopilot_at", sa.DateTime()),
    sa.column("autopilot_week", sa.Date()),
)


def upgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.add_column(sa.Column("autopilot_week", sa.Date(), nullable=True))
    bind = op.get_bind()
    handled = bind.execute(
        sa.select(LISTS.c.id, LISTS.c.timezone, LISTS.c.autopilot_at).where(
            LISTS.c.autopilot_at.is_not(None)
        )
    ).all()
    for list_id, zone_name, at in handled:
        # Stored as naive UTC; the week is the one it fell in under the list's zone today.
        try:
            zone = ZoneInfo(zone_name)
        except (KeyError, ValueError):  # a zone this machine does not know
            zone = UTC
        day = at.replace(tzinfo=UTC).astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        bind.execute(LISTS.update().where(LISTS.c.id == list_id).values(autopilot_week=monday))


def downgrade():
    with op.batch_alter_table("mailing_lists") as batch:
        batch.drop_column("autopilot_week")
