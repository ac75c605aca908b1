"""Telling the editors when an issue stops sending by itself."""

from __future__ import annotations

from flask import current_app

from newsletter import mailer
from newsletter.editors import email_editors
from newsletter.extensions import db
from newsletter.models import Issue
from newsletter.sending import ledger
from newsletter.statuses import IssueStatus


def tell_editors(issue_id: int) -> int:
    """Email every editor why the issue paused; returns how many were told."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != IssueStatus.PAUSED or not issue.pause_reason:
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
    return email_editors(mailing_list, subject, html, text)
