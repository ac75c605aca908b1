"""Emailing the editors (every user of the admin) from a list's sender: alerts and notices."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter import mailer
from newsletter.extensions import db
from newsletter.lists import sender
from newsletter.models import MailingList, User


def email_editors(mailing_list: MailingList, subject: str, html: str, text: str) -> int:
    """Send one email to every editor; returns how many were emailed."""
    editors = db.session.scalars(sa.select(User.email).order_by(User.id)).all()
    if not editors:
        return 0
    with mailer.connect() as smtp:
        for address in editors:
            headers = mailer.standard_headers(sender(mailing_list), ("", address), subject)
            message = mailer.mime_bytes(headers, text, html)
            mailer.send(smtp, mailing_list.from_email, address, message)
    return len(editors)
