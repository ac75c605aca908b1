"""Telling the editors when an issue stops sending by itself, or holds a domain back."""

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
    subject = f"Issue {issue.number} of {issue.mailing_list.name} paused: sending failed"
    return email_about(issue, "paused", subject)


def tell_editors_of_hold(issue_id: int, domain: str) -> int:
    """Email every editor that the issue holds back a domain's copies; how many were told."""
    issue = db.session.get(Issue, issue_id)
    hold = (issue.held_domains or {}).get(domain) if issue else None
    if hold is None:
        return 0
    subject = f"Issue {issue.number} of {issue.mailing_list.name}: {domain} refuses our mail"
    return email_about(issue, "held", subject, domain=domain, hold=hold)


def email_about(issue: Issue, template: str, subject: str, **values) -> int:
    """Email every editor of the issue's list templates/email/<template>.html, with the
    issue's counts and a link to its page; how many were told."""
    html, text = mailer.render_email(
        template,
        issue=issue,
        mailing_list=issue.mailing_list,
        subject=subject,
        counts=ledger.counts(issue.id),
        issue_url=f"{current_app.config['BASE_URL']}/admin/issues/{issue.id}",
        **values,
    )
    return email_editors(issue.mailing_list, subject, html, text)
