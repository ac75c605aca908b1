"""Each post on its own, for subscriptions that want it: after the hold, through the same
engine and ledger as a digest, never twice, numbered apart from the digests."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from builders import add_subscribers, draft, item, rss, user

from newsletter import each_post
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.lists import update_list
from newsletter.lists.shapes import ListChanges
from newsletter.models import Delivery, Issue, Post
from newsletter.posts import feeds
from newsletter.posts.service import add_feed
from newsletter.sending import loop

TITLE = "گزارش تازه: Tehran's water crisis 🌊"


def post(weekly, guid: str, seen: datetime, title: str = TITLE) -> Post:
    row = Post(
        list_id=weekly.id,
        guid=guid,
        url=f"https://example.org/{guid}",
        title=title,
        source="Interlink",
        excerpt="…",
        published_at=None,  # a post with no date, as the organisation's site has
        first_seen_at=seen,
    )
    db.session.add(row)
    db.session.commit()
    return row


def readers_by_mode(weekly) -> dict[str, int]:
    readers = add_subscribers(weekly, 3)
    for reader, mode in zip(readers, ("digest", "each", "both"), strict=True):
        reader.subscriptions[0].delivery = mode
    db.session.commit()
    return {mode: r.id for r, mode in zip(readers, ("digest", "each", "both"), strict=True)}


def test_a_new_post_goes_on_its_own_after_the_hold_once(app, weekly, inbox):
    modes = readers_by_mode(weekly)
    post(weekly, "before", datetime.now(UTC) - timedelta(days=1))  # before it was turned on
    update_list(weekly, ListChanges(each_post=True, each_post_hold=30))
    assert weekly.each_post_since is not None
    fresh = post(weekly, "fresh", datetime.now(UTC))
    soon = datetime.now(UTC) + timedelta(minutes=10)
    assert each_post.send_new_posts(soon) == []  # still inside the hold: maybe being edited
    later = datetime.now(UTC) + timedelta(minutes=31)
    [issue_id] = each_post.send_new_posts(later)
    issue = db.session.get(Issue, issue_id)
    assert (issue.kind, issue.post_id, issue.number, issue.subject) == ("post", fresh.id, 1, TITLE)
    assert each_post.send_new_posts(later + timedelta(hours=1)) == []  # never twice

    loop.claim_due_issues(later)
    got = {d.subscriber_id for d in Delivery.query.filter_by(issue_id=issue_id)}
    assert got == {modes["each"], modes["both"]}
    assert loop.send_batch(issue_id).sent == 2
    for message in inbox.wait_for(2):
        assert message.message["Subject"] == TITLE  # Persian, English and emoji, decoded
    # The digests keep their own numbers.
    digest = compose_issue(
        weekly, datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) + timedelta(days=1)
    )
    assert (digest.kind, digest.number) == ("digest", 1)


def test_a_list_without_each_post_sends_none_and_turning_it_on_sends_nothing_old(app, weekly):
    readers_by_mode(weekly)
    post(weekly, "old", datetime.now(UTC) - timedelta(hours=2))
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(hours=1)) == []
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1)) == []
    assert Issue.query.count() == 0


def test_digest_subscribers_get_digests_only(app, weekly):
    modes = readers_by_mode(weekly)
    issue = draft(weekly)
    from newsletter.sending import lifecycle

    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    got = {d.subscriber_id for d in Delivery.query.filter_by(issue_id=issue.id)}
    assert got == {modes["digest"], modes["both"]}


def test_post_issues_stay_out_of_the_archive(app, client, weekly, inbox):
    readers_by_mode(weekly)
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))
    post(weekly, "fresh", datetime.now(UTC) + timedelta(seconds=1))
    [issue_id] = each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1))
    loop.claim_due_issues(datetime.now(UTC) + timedelta(minutes=1))
    loop.send_batch(issue_id)
    assert db.session.get(Issue, issue_id).status == "sent"
    assert client.get("/archive/weekly/1").status_code == 404  # post issue 1 is no digest
    assert "گزارش تازه" not in client.get("/archive/weekly").text  # (unescaped part)


# --- Only news goes out on its own --------------------------------------------------------


def _each_post_list(weekly):
    readers_by_mode(weekly)
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))


def test_a_new_feeds_back_catalogue_waits_for_the_digest(app, weekly, web_files, editor_client):
    """A feed added to a list that sends each post mailed every reader of it every post
    the feed held: up to 200 emails each, at once."""
    _each_post_list(weekly)
    web_files.files["/f"] = rss(item("a", "First"), item("b", "Second"))
    feed = add_feed(weekly, web_files.url + "/f")
    assert feeds.fetch_feed(feed) == 2
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1)) == []
    assert {p.each_post_skipped for p in Post.query} == {"first fetch"}
    page = editor_client.get(f"/admin/lists/{weekly.slug}/posts?since=2019-08-01").text
    assert "Not sent on its own (its feed&#39;s first fetch" in page
    now = format_datetime(datetime.now(UTC))
    news = item("c", "Third").replace("Mon, 05 Aug 2019 09:00:00 +0000", now)
    web_files.files["/f"] = rss(item("a", "First"), item("b", "Second"), news)
    assert feeds.fetch_feed(feed) == 1
    [issue_id] = each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1))
    assert db.session.get(Issue, issue_id).subject == "Third"


def test_a_post_published_long_before_it_was_seen_waits_and_editors_hear(app, weekly, inbox):
    _each_post_list(weekly)
    user("editor@example.org")
    moved = post(weekly, "moved", datetime.now(UTC), title="Moved: خبر قدیمی")
    moved.published_at = datetime.now(UTC) - timedelta(days=10)
    db.session.commit()
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1)) == []
    assert moved.each_post_skipped == "old"
    [told] = inbox.wait_for(1)
    assert told.recipients == ["editor@example.org"]
    assert "1 posts not sent on their own" in told.message["Subject"]
    assert "Moved: خبر قدیمی (published more than 2 days before" in told.part("plain")


def test_past_the_days_limit_posts_wait_for_the_digest(app, weekly, inbox):
    app.config["EACH_POST_DAILY_MAX"] = 2
    _each_post_list(weekly)
    user("editor@example.org")
    now = datetime.now(UTC)
    for n in range(3):
        post(weekly, f"p{n}", now + timedelta(seconds=n), title=f"Post {n}")
    later = now + timedelta(minutes=1)
    assert len(each_post.send_new_posts(later)) == 2
    assert [p.each_post_skipped for p in Post.query.order_by(Post.id)] == [
        None,
        None,
        "day's limit",
    ]
    assert "Post 2 (past the day's limit" in inbox.wait_for(1)[0].part("plain")
    # A day on, the waiting post stays for the digest; a new one goes.
    post(weekly, "next-day", later + timedelta(days=1), title="Next day")
    [issue_id] = each_post.send_new_posts(later + timedelta(days=1, minutes=1))
    assert db.session.get(Issue, issue_id).subject == "Next day"
