"""Posts from the organisation's feed, and feeds that misbehave."""

from datetime import UTC, datetime

import pytest
from builders import SAMPLE, item, rss

from newsletter.extensions import db
from newsletter.models import Feed, Post
from newsletter.posts import feeds
from newsletter.posts.service import PostError, add_feed, add_post

UNDATED = "Iran Blasts US , EU support for MKO Terrorists – Mersad Anniversary"


@pytest.fixture
def feed(weekly, web_files):
    web_files.files["/feed.xml"] = SAMPLE
    return add_feed(weekly, web_files.url + "/feed.xml")


def test_the_sample_feed_imports_ten_posts(feed):
    assert feeds.fetch_feed(feed) == 10
    posts = {p.title: p for p in Post.query}
    assert len(posts) == 10
    assert posts["OIAC aka MEK Deceptive Tactics in USA"].source == "Amil Imani, PipeLineNews"
    assert posts["OIAC aka MEK Deceptive Tactics in USA"].published_at == datetime(
        2019, 8, 15, 9, tzinfo=UTC
    )
    assert feed.last_error is None and feed.title == "Iran Interlink"


def test_undated_post_takes_the_time_it_was_first_seen(feed):
    feeds.fetch_feed(feed)
    undated = Post.query.filter_by(title=UNDATED).one()
    assert undated.published_at is None
    assert abs((datetime.now(UTC) - undated.first_seen_at).total_seconds()) < 60
    assert undated.dated_at == undated.first_seen_at


def test_fetching_again_is_conditional_and_adds_nothing(feed, web_files):
    feeds.fetch_feed(feed)
    assert feeds.fetch_feed(feed) == 0
    assert web_files.requests[-1]["If-None-Match"] == feed.etag
    assert Post.query.count() == 10


def test_a_changed_feed_adds_only_the_new_items(weekly, web_files):
    web_files.files["/f"] = rss(item("a", "First"))
    feed = add_feed(weekly, web_files.url + "/f")
    assert feeds.fetch_feed(feed) == 1
    web_files.files["/f"] = rss(item("a", "First"), item("b", "Second"))
    assert feeds.fetch_feed(feed) == 1
    assert sorted(p.title for p in Post.query) == ["First", "Second"]


def test_html_in_titles_and_excerpts_becomes_plain_text(weekly, web_files):
    web_files.files["/f"] = rss(
        item(
            "a",
            "&lt;b&gt;Bold&lt;/b&gt; &amp;amp; &lt;script&gt;x()&lt;/script&gt;news",
            description="&lt;p&gt;An &lt;a href='javascript:x'&gt;excerpt&lt;/a&gt;&lt;/p&gt;",
        )
    )
    feeds.fetch_feed(add_feed(weekly, web_files.url + "/f"))
    post = Post.query.one()
    assert "<" not in post.title and "Bold" in post.title and "&" in post.title
    assert post.excerpt == "An excerpt"


def test_entries_without_a_web_link_are_skipped(weekly, web_files):
    web_files.files["/f"] = rss(item("a", "Bad", link="javascript:alert(1)"), item("b", "Good"))
    assert feeds.fetch_feed(add_feed(weekly, web_files.url + "/f")) == 1
    assert Post.query.one().title == "Good"


def test_an_entry_whose_link_no_url_parser_takes_is_skipped_alone(weekly, web_files):
    """'http://[bad' raised in the URL parser, and the whole feed failed with it."""
    web_files.files["/f"] = rss(item("a", "Bad", link="http://[bad/x"), item("b", "Good"))
    assert feeds.fetch_feed(add_feed(weekly, web_files.url + "/f")) == 1
    assert Post.query.one().title == "Good"


def test_an_encoding_named_so_no_codec_takes_it_is_read_as_utf8(weekly, web_files):
    """A garbled encoding name (or one with a NUL in it) raised inside feedparser, and the
    feed was lost: it is read as XML's default, UTF-8."""
    for n, name in enumerate([b"UTF\xf18", b"utf\x008"]):
        body = rss(item(f"fa{n}", "گزارش هفتگی")).replace(b"UTF-8", name, 1)
        web_files.files[f"/f{n}"] = body
        assert feeds.fetch_feed(add_feed(weekly, f"{web_files.url}/f{n}")) == 1
    assert [p.title for p in Post.query.order_by(Post.id)] == ["گزارش هفتگی"] * 2


def test_markup_that_trips_the_lenient_parser_is_not_a_feed(weekly, web_files):
    """feedparser's lenient parser raised on its own on such markup: the editors saw "could
    not be read" and the log a traceback, rather than why."""
    web_files.files["/f"] = b"<channel<item<link</item</link>"
    feed = add_feed(weekly, web_files.url + "/f")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(feed)
    assert "not a feed" in db.session.get(Feed, feed.id).last_error


def test_persian_posts_arrive_intact(weekly, web_files):
    web_files.files["/f"] = rss(item("fa", "گزارش هفتگی", description="خلاصه‌ای کوتاه"))
    feeds.fetch_feed(add_feed(weekly, web_files.url + "/f"))
    post = Post.query.one()
    assert (post.title, post.excerpt) == ("گزارش هفتگی", "خلاصه‌ای کوتاه")


def test_a_malformed_feed_stores_an_error_and_loses_nothing(feed, web_files):
    feeds.fetch_feed(feed)
    web_files.files["/feed.xml"] = b"<html><body>Not a feed <<<"
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(feed)
    db.session.expire_all()
    stored = db.session.get(Feed, feed.id)
    assert "not a feed" in stored.last_error
    assert Post.query.count() == 10


def test_an_unreachable_feed_stores_an_error_and_others_still_fetch(weekly, web_files):
    from conftest import free_port

    dead = add_feed(weekly, f"http://127.0.0.1:{free_port()}/feed.xml")
    web_files.files["/ok"] = rss(item("a", "Fine"))
    live = add_feed(weekly, web_files.url + "/ok")
    assert feeds.poll_all() == 1
    db.session.expire_all()
    assert "Could not reach" in db.session.get(Feed, dead.id).last_error
    assert db.session.get(Feed, live.id).last_error is None
    assert Post.query.one().title == "Fine"


def test_feeds_and_posts_by_hand_are_validated(weekly):
    with pytest.raises(PostError) as bad_feed:
        add_feed(weekly, "ftp://example.org/feed")
    assert bad_feed.value.field == "url"
    add_post(weekly, title="<i>By hand</i>", url="https://example.org/hand", excerpt="<b>x</b>")
    assert (Post.query.one().title, Post.query.one().excerpt) == ("By hand", "x")
    with pytest.raises(PostError):
        add_post(weekly, title="Again", url="https://example.org/hand")
    with pytest.raises(PostError):
        add_post(
            weekly, title="Naive", url="https://example.org/n", published_at=datetime(2019, 1, 1)
        )
    with pytest.raises(PostError):
        add_post(weekly, title="Script", url="javascript:alert(1)")


def _page(href: str) -> bytes:
    """A site's own page, which names its feed in its head, as WordPress's do."""
    return (
        '<!DOCTYPE html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
        "<title>اینترلینک</title>"
        '<link rel="stylesheet" href="/style.css">'
        f'<link rel="alternate" type="application/rss+xml" title="خوراک" href="{href}">'
        "</head><body><h1>خبرها</h1></body></html>"
    ).encode()


def test_a_site_s_page_given_for_its_feed_is_followed_to_the_feed_it_names(weekly, web_files):
    web_files.files["/"] = _page("/feed/?lang=fa&amp;x=1")
    web_files.files["/feed/?lang=fa&x=1"] = rss(item("a", "گزارش هفتگی"))
    feed = add_feed(weekly, web_files.url + "/")
    assert feeds.fetch_feed(feed) == 1
    db.session.expire_all()
    stored = db.session.get(Feed, feed.id)
    assert (stored.url, stored.last_error) == (web_files.url + "/feed/?lang=fa&x=1", None)
    assert Post.query.one().title == "گزارش هفتگی"


@pytest.mark.parametrize(
    "page, error",
    [
        (
            b"<html><head><title>Home</title></head><body>Hi</body></html>",
            "give the feed's address",
        ),
        (_page("http://169.254.169.254/latest/meta-data/"), "Could not reach the feed"),
        (_page("/also-a-page"), "names"),
    ],
    ids=["names-no-feed", "names-an-internal-address", "names-a-page"],
)
def test_a_page_that_names_no_feed_we_can_read_says_so_and_keeps_its_address(
    weekly, web_files, page, error
):
    web_files.files["/"] = page
    web_files.files["/also-a-page"] = b"<html><body>Still a page</body></html>"
    feed = add_feed(weekly, web_files.url + "/")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(feed)
    db.session.expire_all()
    stored = db.session.get(Feed, feed.id)
    assert stored.url == web_files.url + "/" and error in stored.last_error
    assert Post.query.count() == 0


def test_a_page_naming_a_feed_the_list_already_reads_says_so(weekly, web_files):
    web_files.files["/"] = _page("/feed.xml")
    web_files.files["/feed.xml"] = rss(item("a", "A"))
    add_feed(weekly, web_files.url + "/feed.xml")
    page = add_feed(weekly, web_files.url + "/")
    with pytest.raises(feeds.FeedError, match="already one of this list's feeds"):
        feeds.fetch_feed(page)
