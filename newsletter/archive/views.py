"""The public archive: sent issues of public lists, as web pages and as RSS."""

from email.utils import format_datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import escape

from newsletter.archive.pages import issue_page
from newsletter.digest.render import archive_url
from newsletter.extensions import db
from newsletter.hardening import EMAIL_HTML
from newsletter.i18n import use_locale
from newsletter.lists import get_list
from newsletter.models import Issue, MailingList
from newsletter.statuses import IssueKind, IssueStatus
from newsletter.text import xml_safe

bp = Blueprint("archive", __name__)

# A digest joins the archive when it starts going out (a post issue is a post of the site's).
ARCHIVED = (IssueStatus.SENDING, IssueStatus.SENT)
FEED_LENGTH = 50


def archived_issues(mailing_list: MailingList, limit: int | None = None) -> list[Issue]:
    return list(
        db.session.scalars(
            sa.select(Issue)
            .where(
                Issue.list_id == mailing_list.id,
                Issue.kind == IssueKind.DIGEST,
                Issue.status.in_(ARCHIVED),
            )
            .order_by(Issue.number.desc())
            .limit(limit)
        )
    )


@bp.get("/archive/<slug>")
def index(slug: str):
    mailing_list = get_list(slug, public=True)
    use_locale(mailing_list=mailing_list)
    return render_template(
        "archive/index.html", mailing_list=mailing_list, issues=archived_issues(mailing_list)
    )


@bp.get("/archive/<slug>/<int:number>")
def issue(slug: str, number: int):
    mailing_list = get_list(slug, public=True)
    use_locale(mailing_list=mailing_list)
    found = db.session.scalar(
        sa.select(Issue).where(
            Issue.list_id == mailing_list.id,
            Issue.kind == IssueKind.DIGEST,
            Issue.number == number,
        )
    )
    if found is not None and found.status not in ARCHIVED:
        # Not sent yet, so no one's to read; but an editor's "View in your browser" in a
        # test email leads here: signed in, they get the editors' preview, not a 404.
        if current_user.is_authenticated:
            return redirect(url_for("admin.preview_html", issue_id=found.id))
        found = None
    if found is None:
        abort(404)
    # The email's own HTML, with its inline styles and remote images.
    return issue_page(found), {"Content-Security-Policy": EMAIL_HTML}


def summary(issue: Issue) -> str:
    """The issue's titles as HTML; a plain str, so the feed template escapes it as text."""
    return "<ul>" + "".join(f"<li>{escape(item.title)}</li>" for item in issue.items) + "</ul>"


@bp.get("/archive/<slug>/feed.xml")
def feed(slug: str):
    mailing_list = get_list(slug, public=True)
    body = render_template(
        "archive/feed.xml",
        mailing_list=mailing_list,
        issues=archived_issues(mailing_list, FEED_LENGTH),
        base_url=current_app.config["BASE_URL"],
        archive_url=archive_url,
        rfc822=lambda moment: format_datetime(moment, usegmt=True),
        summary=summary,
    )
    return Response(
        xml_safe(body),
        mimetype="application/rss+xml",
        content_type="application/rss+xml; charset=utf-8",
    )
