"""Emailing the editors (every user of the admin): alerts and notices from a list's sender,
and a new user's invitation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from newsletter import mailer
from newsletter.accounts import INVITATION_MAX_AGE
from newsletter.extensions import db
from newsletter.i18n import DEFAULT_LOCALE, supported
from newsletter.lists import sender
from newsletter.models import MailingList, User

INVITATION_SUBJECT = _l("Your invitation to edit the newsletters")


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


def email_invitation(user: User, link: str, invited_by: str, locale: str | None) -> None:
    """Email a new user their invitation link, in `locale` (else the default language), with
    the inviting admin as Reply-To. Raises OSError when the mail server cannot take it."""
    days = current_app.config.get("INVITATION_MAX_AGE", INVITATION_MAX_AGE) // 86400
    with force_locale(supported(locale) or DEFAULT_LOCALE):
        subject = str(INVITATION_SUBJECT)
        html, text = mailer.render_email(
            "invitation", subject=subject, user=user, link=link, invited_by=invited_by, days=days
        )
    # No list sends this: it comes from the product itself, at our own mail domain.
    from_email = f"newsletter@{current_app.config['MAIL_DOMAIN']}"
    headers = mailer.standard_headers(
        ("newsletter", from_email), ("", user.email), subject, invited_by
    )
    with mailer.connect() as smtp:
        mailer.send(smtp, from_email, user.email, mailer.mime_bytes(headers, text, html))
