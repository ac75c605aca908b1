"""Telling the editors when an issue stops sending by itself."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from newsletter import mailer
from newsletter.extensions import db
from newsletter.lists import sender
from newsletter.models import Issue, User
from newsletter.sending import ledger


def tell_editors(issue_id: int) -> int:
    """Email every editor why the issue paused; returns how many were told."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != "paused" or not issue.pause_reason:
        return 0
    mailing_list = issue.mailing_list
    subject = f"Issue {issue.number} of {mailing_list.name} paused: sending failed"
    html, text = mailer.render_email(
        "paused",
        issue=issue,
        mailing_list=mailing_list,
        subject=subject,
        counts=ledger.counts(issue.id),
        issue_url=f"{current_app.config['BASE_URL']}/admin/issues/{issue.id}",
    )
    editors = db.session.scalars(sa.select(User.email).order_by(User.id)).all()
    with mailer.connect() as smtp:
        for email in editors:
            headers = mailer.standard_headers(sender(mailing_list), ("", email), subject)
            mailer.send(
                smtp, mailing_list.from_email, email, mailer.mime_bytes(headers, text, html)
            )
    return len(editors)
