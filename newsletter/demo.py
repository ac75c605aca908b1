"""First-run set-up for `newsletter dev`: an admin, an API token and a list to try."""

import secrets

import sqlalchemy as sa

from newsletter import accounts
from newsletter.extensions import db
from newsletter.lists import create_list
from newsletter.lists.shapes import NewList
from newsletter.models import MailingList, User

DEMO_ADMIN = "admin@example.com"


def seed() -> list[str]:
    """Create what is missing and return lines to show whoever runs dev."""
    lines = []
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        password = secrets.token_urlsafe(12)
        user = accounts.create_user(DEMO_ADMIN, password, "admin")
        token = accounts.create_token(user, "dev")
        lines += [
            f"  Admin:   {DEMO_ADMIN} / {password}",
            f"  API:     Authorization: Bearer {token}",
        ]
    if db.session.scalar(sa.select(sa.func.count()).select_from(MailingList)) == 0:
        new = NewList(
            slug="weekly",
            name="Weekly Digest",
            from_email="digest@example.com",
            from_name="Weekly Digest",
            opt_in="double",
            description="The week's posts, every Friday.",
            postal_address="Example Organisation, 1 Example Street, Example City",
        )
        create_list(new)
        lines.append("  List:    'weekly' created; subscribe at /subscribe/weekly")
    return lines
