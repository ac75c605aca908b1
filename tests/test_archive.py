"""The public archive and its feed."""

from datetime import UTC, datetime

import feedparser
import pytest
from builders import draft

from newsletter.extensions import db
from newsletter.models import Issue, IssueItem


def issue(mailing_list, number, status="sent", subject=None, title="A post"):
    made = Issue(
        list_id=mailing_list.id,
        number=number,
        subject=subject or f"Issue {number}",
        status=status,
        started_at=datetime(2019, 8, number, 9, tzinfo=UTC),
        until=datetime(2019, 8, number, tzinfo=UTC),
        items=[IssueItem(position=0, title=title, url="https://example.org/a", source="Ex")],
    )
    db.session.add(made)
    db.session.commit()
    return made


def test_the_index_lists_only_issues_that_went_out(client, weekly):
    issue(weekly, 1)
    issue(weekly, 2, status="sending")
    issue(weekly, 3, status="draft")
    issue(weekly, 4, status="cancelled", subject="Never sent")
    page = client.get("/archive/weekly")
    assert page.status_code == 200
    assert "Issue 1" in page.text and "Issue 2" in page.text
    assert "Issue 3" not in page.text and "Never sent" not in page.text
    assert 'type="application/rss+xml"' in page.text


def test_drafts_private_and_unknown_lists_are_not_found(client, weekly, make_list):
    issue(weekly, 3, status="draft")
    staff = make_list(slug="staff", public=False)
    issue(staff, 1)
    for path in (
        "/archive/weekly/3",
        "/archive/weekly/9",
        "/archive/staff",
        "/archive/staff/1",
        "/archive/staff/feed.xml",
        "/archive/nope",
    ):
        assert client.get(path).status_code == 404, path


def test_an_archived_issue_has_no_personal_links_and_escapes_titles(client, weekly):
    issue(weekly, 1, title="<script>alert(1)</script> & more")
    page = client.get("/archive/weekly/1")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text
    assert "/unsubscribe/" not in page.text and "/preferences/" not in page.text
    assert "@@NL" not in page.text


def test_the_feed_lists_issues_with_escaped_subjects(client, weekly):
    issue(weekly, 1, subject="Fish & <chips>", title="Cod & chips")
    issue(weekly, 2)
    answer = client.get("/archive/weekly/feed.xml")
    assert answer.content_type == "application/rss+xml; charset=utf-8"
    parsed = feedparser.parse(answer.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Issue 2", "Fish & <chips>"]
    assert parsed.entries[1].link == "http://newsletter.test/archive/weekly/1"
    assert '<li dir="auto">Cod &amp; chips</li>' in parsed.entries[1].summary
    assert "<ul>" not in answer.text  # the summary is HTML carried as escaped text


def test_the_feed_stays_xml_whatever_its_titles_hold(client, weekly):
    """A post title kept with a control character (feeds were read so before) made the
    archive's feed not XML, and a feed reader drops a feed that is not."""
    issue(weekly, 1, subject="Sub\x0bject \ufffe", title="Cod\x01 & chips\x1b 🐟")
    parsed = feedparser.parse(client.get("/archive/weekly/feed.xml").data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Subject"]
    assert '<li dir="auto">Cod &amp; chips 🐟</li>' in parsed.entries[0].summary


@pytest.mark.parametrize("path", ["/archive/fa", "/archive/fa/1"])
def test_right_to_left_lists_are_shown_rtl(client, make_list, path):
    persian = make_list(slug="fa", name="خبرنامه", language="fa", direction="rtl")
    issue(persian, 1, title="گزارش هفتگی")
    assert 'dir="rtl"' in client.get(path).text


@pytest.fixture
def renders(app):
    """The digest pages rendered while the test runs."""
    from flask import template_rendered

    seen = []

    def count(sender, template, context, **extra):
        if template.name == "email/digest.html":
            seen.append(context["issue"].id)

    template_rendered.connect(count, app)
    yield seen
    template_rendered.disconnect(count, app)


def test_an_archived_page_is_rendered_once_until_its_issue_or_list_changes(client, weekly, renders):
    sent = issue(weekly, 5, title="First title")
    assert "First title" in client.get("/archive/weekly/5").text
    assert "First title" in client.get("/archive/weekly/5").text
    assert len(renders) == 1

    sent.progress_at = datetime.now(UTC)  # a batch went out: the page is the same
    db.session.commit()
    client.get("/archive/weekly/5")
    assert len(renders) == 1

    sent.items[0].title = "Edited while paused"
    db.session.commit()
    assert "Edited while paused" in client.get("/archive/weekly/5").text
    weekly.footer = "A new footer"
    db.session.commit()
    assert "A new footer" in client.get("/archive/weekly/5").text
    assert len(renders) == 3


def test_a_test_email_s_view_in_browser_shows_editors_the_preview_and_no_one_else_the_draft(
    client, editor_client, weekly
):
    """Before its send, an issue's archive page is a 404 for readers; an editor, following
    "View in your browser" in a test email, gets the editors' preview (it was a 404 too)."""
    issue = draft(weekly)
    path = f"/archive/weekly/{issue.number}"
    shown = editor_client.get(path)
    assert shown.status_code == 302
    assert shown.headers["Location"].endswith(f"/admin/issues/{issue.id}/preview.html")
    assert editor_client.get(shown.headers["Location"]).status_code == 200
    with client.application.test_client() as stranger:
        assert stranger.get(path).status_code == 404
        assert stranger.get("/archive/weekly/99").status_code == 404
