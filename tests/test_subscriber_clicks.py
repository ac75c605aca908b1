"""An editor reads one subscriber's clicks, where the list keeps who clicked; elsewhere the
page says that it does not."""

import os

import pytest
import sqlalchemy as sa
from builders import send_one_batch, user
from playwright.sync_api import expect

from newsletter import analytics
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, MailingList, Subscriber

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


def sent_and_clicked(mailing_list: MailingList, clicks: int = 1) -> tuple[Subscriber, Issue]:
    """An issue sent to one reader, who clicks its first link `clicks` times."""
    issue = send_one_batch(mailing_list, 1)
    delivery = db.session.scalars(sa.select(Delivery).where(Delivery.issue_id == issue.id)).one()
    for _ in range(clicks):
        assert analytics.record_click(analytics.token(delivery.id), 1)
    return db.session.get(Subscriber, delivery.subscriber_id), issue


def clicks_page(editor_client, subscriber: Subscriber) -> str:
    answer = editor_client.get(f"/admin/subscribers/{subscriber.id}/clicks")
    assert answer.status_code == 200
    return answer.text


@pytest.mark.slow
def test_a_list_that_keeps_who_clicked_shows_their_clicks(editor_client, make_list, inbox):
    keeping = make_list(track_subscribers=True, timezone="Asia/Tehran")
    reader, issue = sent_and_clicked(keeping, clicks=2)
    page = editor_client.get(f"/admin/subscribers/{reader.id}").text
    assert f'href="/admin/subscribers/{reader.id}/clicks"' in page
    page = clicks_page(editor_client, reader)
    assert '<span class="count" id="click-count">2</span>' in page
    assert page.count("https://example.org/p1") == 2
    assert f'href="/admin/issues/{issue.id}">#1 <span dir="auto">{issue.subject}' in page
    assert "Asia/Tehran" in page and 'id="tracking-off"' not in page


def test_a_list_that_does_not_keep_who_clicked_says_so(editor_client, weekly, inbox):
    reader, _ = sent_and_clicked(weekly)  # counted on the link, as nobody's
    page = clicks_page(editor_client, reader)
    assert 'id="tracking-off"' in page and "Weekly Digest" in page
    assert 'id="clicks"' not in page and "https://example.org/p1" not in page


def test_clicks_kept_before_the_list_stopped_keeping_them_are_not_shown(
    editor_client, make_list, inbox
):
    keeping = make_list(track_subscribers=True)
    reader, _ = sent_and_clicked(keeping)
    keeping.track_subscribers = False
    db.session.commit()
    page = clicks_page(editor_client, reader)
    assert 'id="tracking-off"' in page and "https://example.org/p1" not in page


def test_a_subscriber_who_turned_tracking_off_is_said_to_have(editor_client, make_list, inbox):
    keeping = make_list(track_subscribers=True)
    reader, _ = sent_and_clicked(keeping)
    reader.no_tracking = True
    db.session.commit()
    page = clicks_page(editor_client, reader)
    assert 'id="no-tracking"' in page
    assert '<span class="count" id="click-count">1</span>' in page  # from before


def test_what_the_page_shows_is_escaped(editor_client, make_list, inbox):
    keeping = make_list(track_subscribers=True, name="<b>فهرست</b>")
    reader, issue = sent_and_clicked(keeping)
    issue.subject = "<script>alert(1)</script> خبر"
    db.session.commit()
    page = clicks_page(editor_client, reader)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; خبر" in page
    assert '<td dir="auto">&lt;b&gt;فهرست&lt;/b&gt;</td>' in page


@pytest.mark.parametrize("path", ["424242/clicks", "abc/clicks", "-1/clicks"])
def test_an_unknown_subscriber_is_a_404(editor_client, path):
    assert editor_client.get(f"/admin/subscribers/{path}").status_code == 404


def test_only_editors_see_it(client, make_list, inbox):
    reader, _ = sent_and_clicked(make_list(track_subscribers=True))
    answer = client.get(f"/admin/subscribers/{reader.id}/clicks")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


@pytest.mark.slow
def test_from_the_subscriber_page_to_their_clicks(page, live_server, make_list, inbox):
    keeping = make_list(track_subscribers=True)
    reader, _ = sent_and_clicked(keeping, clicks=3)
    user("writer@example.org")
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", "writer@example.org")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/admin/subscribers/{reader.id}")
    page.click("text=Their clicks")
    expect(page.locator("#clicks tbody tr")).to_have_count(3)
    expect(page.locator("#click-count")).to_have_text("3")
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "admin-subscriber-clicks.png"), full_page=True)
    keeping.track_subscribers = False
    db.session.commit()
    page.reload()
    expect(page.locator("#tracking-off")).to_contain_text("Who clicked is not kept by")
    page.screenshot(path=os.path.join(ARTIFACTS, "admin-subscriber-clicks-off.png"), full_page=True)
