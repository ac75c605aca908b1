"""The public archive: sent issues of public lists, as web pages and as RSS."""

from email.utils import format_datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import escape
from sqlalchemy.orm import selectinload

from newsletter.archive.pages import issue_page, shown_subject
from newsletter.digest.render import archive_index_url, archive_url
from newsletter.extensions import db
from newsletter.hardening import EMAIL_HTML, MAX_ID
from newsletter.i18n import use_locale
from newsletter.lists import get_list
from newsletter.models import Issue, MailingList
from newsletter.statuses import IssueKind, IssueStatus
from newsletter.text import xml_safe

bp = Blueprint("archive", __name__)

# A digest joins the archive when it starts going out (a post issue is a post of the site's).
ARCHIVED = (IssueStatus.SENDING, IssueStatus.SENT)
FEED_LENGTH = 50
# Issues on one page of the index; a weekly list fills one a year.
ISSUES_A_PAGE = 50
# How long a shared cache or a feed reader may keep an answer before asking again (with its
# ETag, for a 304): every reader gets the same archive, and a new issue shows within this.
MAX_AGE = 300


def archived_issues(
    mailing_list: MailingList, limit: int | None = None, offset: int = 0, *options
) -> list[Issue]:
    """A page of the list's archive, newest first, with the A/B variants its subjects are
    shown from (and `options`, what else the page reads of each) loaded with it: a set
    number of statements however many issues the page shows."""
    return list(
        db.session.scalars(
            sa.select(Issue)
            .options(selectinload(Issue.variants), *options)
            .where(
                Issue.list_id == mailing_list.id,
                Issue.kind == IssueKind.DIGEST,
                Issue.status.in_(ARCHIVED),
            )
            .order_by(Issue.number.desc())
            .offset(offset)
            .limit(limit)
        )
    )


@bp.after_request
def cacheable(response: Response) -> Response:
    """The same archive for everyone: public, kept MAX_AGE, and a 304 to a reader whose
    copy's ETag still matches (RFC 9110 13.1.2)."""
    if response.status_code == 200:
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.add_etag()
        response.make_conditional(request)
    return response


def page_number() -> int:
    """?page=N, the first by default; anything but a page's number is a page not there."""
    given = request.args.get("page", "1")
    if not (given.isascii() and given.isdigit() and len(given) <= len(str(MAX_ID))):
        abort(404)
    number = int(given)
    if not 1 <= number <= MAX_ID:
        abort(404)
    return number


@bp.get("/archive/<slug>")
def index(slug: str):
    mailing_list = get_list(slug, public=True)
    page = page_number()
    # One more than a page, to know whether an older page follows.
    issues = archived_issues(mailing_list, ISSUES_A_PAGE + 1, (page - 1) * ISSUES_A_PAGE)
    if page > 1 and not issues:
        abort(404)
    use_locale(mailing_list=mailing_list)
    canonical = archive_index_url(mailing_list) + (f"?page={page}" if page > 1 else "")
    return render_template(
        "archive/index.html",
        mailing_list=mailing_list,
        issues=issues[:ISSUES_A_PAGE],
        page=page,
        older=len(issues) > ISSUES_A_PAGE,
        canonical=canonical,
        subject=shown_subject,
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
    """The issue's titles as HTML; a plain str, so the feed template escapes it as text.
    Each in its own direction: a feed reader shows a Persian title in an English frame."""
    titles = (f'<li dir="auto">{escape(item.title)}</li>' for item in issue.items)
    return "<ul>" + "".join(titles) + "</ul>"


@bp.get("/archive/<slug>/feed.xml")
def feed(slug: str):
    mailing_list = get_list(slug, public=True)
    body = render_template(
        "archive/feed.xml",
        mailing_list=mailing_list,
        issues=archived_issues(mailing_list, FEED_LENGTH, 0, selectinload(Issue.items)),
        base_url=current_app.config["BASE_URL"],
        archive_url=archive_url,
        rfc822=lambda moment: format_datetime(moment, usegmt=True),
        summary=summary,
        subject=shown_subject,
    )
    return Response(
        xml_safe(body),
        mimetype="application/rss+xml",
        content_type="application/rss+xml; charset=utf-8",
    )
