"""Feeds that answer in SMTP, a byte a second, with 100,000 items or 200,000 nested elements:
each is cut off and its failure stored on that feed alone, in the worker, never in a web
request."""

import gzip
import ssl
import time
from datetime import datetime

import pytest
from builders import SAMPLE, item, rss
from conftest import wait_until
from hostile_servers import Answer, Servers, feed, redirect, response, trickle
from mailboxes import self_signed

from newsletter.extensions import db
from newsletter.models import Feed, Post
from newsletter.posts import feeds
from newsletter.posts.service import add_feed

PERSIAN = "📰 گزارش هفتگی — خبر عاجل 🌙"
ARABIC = "نشرة الأخبار ✨ العربية"


@pytest.fixture
def servers():
    with Servers() as started:
        yield started


def error_of(row: Feed) -> str | None:
    db.session.expire_all()
    return db.session.get(Feed, row.id).last_error


def test_a_feed_answering_in_smtp_fails_alone_and_the_poll_goes_on(weekly, web_files, inbox_server):
    smtp = add_feed(weekly, f"http://127.0.0.1:{inbox_server.port}/feed.xml")
    web_files.files["/ok"] = rss(item("a", PERSIAN))
    live = add_feed(weekly, web_files.url + "/ok")
    assert feeds.poll_all() == 1
    assert error_of(smtp) == "Could not reach the feed: the server did not answer in HTTP."
    assert error_of(live) is None
    assert Post.query.one().title == PERSIAN


@pytest.mark.slow
def test_fetch_now_is_queued_and_its_outcome_is_on_the_feed(
    client, api_headers, weekly, web_files, inbox_server, worker
):
    web_files.files["/feed.xml"] = SAMPLE
    for url, new, error in (
        (web_files.url + "/feed.xml", 10, None),
        (f"http://127.0.0.1:{inbox_server.port}/", 0, "did not answer in HTTP"),
    ):
        created = client.post(
            "/api/v1/feeds", json={"url": url, "list": "weekly"}, headers=api_headers
        ).json
        queued = client.post(f"/api/v1/feeds/{created['id']}/fetch", headers=api_headers)
        assert queued.status_code == 202
        assert queued.json["job"] and queued.json["feed"] == created["id"]
        requested = datetime.fromisoformat(queued.json["requested_at"])

        def done(feed_id=created["id"], requested=requested):
            body = client.get(f"/api/v1/feeds/{feed_id}", headers=api_headers).json
            fetched = body["last_fetched_at"]
            return body if fetched and datetime.fromisoformat(fetched) >= requested else None

        outcome = wait_until(done, message=f"{url} was not fetched")
        assert outcome["new"] == new
        assert error in outcome["last_error"] if error else outcome["last_error"] is None


def test_fetch_now_does_not_fetch_in_the_web_request(
    client, api_headers, editor_client, weekly, servers
):
    slow = servers.start(trickle(response("200 OK", rss(item("a", "Slow")))))
    row = add_feed(weekly, slow.url + "/feed.xml")
    started = time.monotonic()
    answer = client.post(f"/api/v1/feeds/{row.id}/fetch", headers=api_headers)
    assert answer.status_code == 202
    token = {"csrf_token": editor_client.token}
    page = editor_client.post(f"/admin/feeds/{row.id}/fetch", data=token)
    assert page.status_code == 302
    # The server would take minutes to answer; a worker, not this request, waits for it.
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("headers_too", [True, False], ids=["status-line", "body"])
@pytest.mark.slow
def test_a_server_sending_a_byte_a_second_is_cut_off_by_the_deadline(
    app, weekly, servers, headers_too, scheme, tmp_path, monkeypatch
):
    app.config.update(FEED_DEADLINE=2.0, FEED_TIMEOUT=5.0)
    whole = response("200 OK", rss(item("a", "Slow"), item("b", "Slower")))
    head, body = whole.split(b"\r\n\r\n", 1)

    def slowly(connection, request):
        if not headers_too:
            connection.sendall(head + b"\r\n\r\n")
        trickle(whole if headers_too else body)(connection, request)

    tls = None
    if scheme == "https":  # TLS's wrapping takes the socket over: the deadline must follow
        certificate, key = self_signed(tmp_path)
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate, key)
    row = add_feed(weekly, servers.start(slowly, tls).url + "/feed.xml")
    started = time.monotonic()
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert time.monotonic() - started < 4
    assert error_of(row) == "Could not reach the feed: timed out."


def many_items(count: int) -> bytes:
    return rss(*(item(f"{i}", f"Item {i}") for i in range(count)))


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "no-length"])
def test_a_huge_feed_is_refused_without_reading_it_all(weekly, servers, announced):
    body = many_items(100_000)
    assert len(body) > 6_000_000

    def huge(connection, request):
        if announced:
            connection.sendall(response("200 OK", body))
        else:
            connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)

    row = add_feed(weekly, servers.start(huge).url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row) == "The feed is too large: the feed is larger than 5 MB."
    assert Post.query.count() == 0


@pytest.mark.slow
def test_only_the_first_items_of_a_long_feed_are_kept(app, weekly, servers):
    app.config["FEED_MAX_ITEMS"] = 1_200  # more guids than one query looks up
    row = add_feed(weekly, servers.start(feed(many_items(3_000))).url + "/feed.xml")
    assert feeds.fetch_feed(row) == 1_200
    assert {p.title for p in Post.query} == {f"Item {i}" for i in range(1_200)}


@pytest.mark.slow
def test_deeply_nested_fields_are_dropped_not_cleaned(weekly, servers):
    def nested(depth: int) -> str:
        return "<div>" * depth + "hidden" + "</div>" * depth

    body = rss(
        item("cdata", PERSIAN, description=f"<![CDATA[{nested(200_000)}]]>"),
        item("elements", ARABIC, description=nested(100_000)),
        item("title", f"<![CDATA[{nested(50_000)}]]>"),
        item("plain", "Plain", description="&lt;p&gt;خلاصه‌ای کوتاه 🌷&lt;/p&gt;"),
    )
    row = add_feed(weekly, servers.start(feed(body)).url + "/feed.xml")
    assert feeds.fetch_feed(row) == 3
    posts = {p.title: p.excerpt for p in Post.query}
    # Raw nested elements reach us as their text; escaped markup that deep is dropped.
    assert posts == {PERSIAN: "", ARABIC: "hidden", "Plain": "خلاصه‌ای کوتاه 🌷"}


def test_a_body_naming_a_local_file_is_not_read_from_disk(weekly, servers, tmp_path):
    local = tmp_path / "local.xml"
    local.write_bytes(rss(item("disk", "Read from the server's disk")))
    row = add_feed(weekly, servers.start(feed(str(local).encode())).url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row).startswith("This is not a feed we can read.")
    assert Post.query.count() == 0


# Character references XML does not allow, which feedparser's lenient parser raised on, and
# raw control characters: each lost the whole feed, or reached a title.
UNREADABLE = {
    "half a surrogate pair": "&#xD800;",
    "past U+10FFFF": "&#x110000;",
    "a number past any": "&#99999999999;",
    "five thousand digits": "&#" + "9" * 5000 + ";",
    "NUL": "&#0;",
}


@pytest.mark.parametrize("reference", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_character_no_feed_may_carry_costs_one_character_not_the_feed(
    weekly, web_files, reference
):
    title = f"{PERSIAN} {reference} ok"
    web_files.files["/feed.xml"] = rss(
        item("a", title, description=f"x{reference}y"), item("b&#0;c", "Next")
    )
    row = add_feed(weekly, web_files.url + "/feed.xml")
    assert feeds.poll_all() == 2
    assert error_of(row) is None
    posts = {post.title: post for post in Post.query}
    assert set(posts) == {f"{PERSIAN} \ufffd ok", "Next"}
    assert posts[f"{PERSIAN} \ufffd ok"].excerpt == "x\ufffdy"
    assert posts["Next"].guid == "b\ufffdc"


def test_control_characters_in_a_title_become_spaces(weekly, web_files):
    web_files.files["/feed.xml"] = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        b"<title>a\x01b\x1bc\x00d</title><link>https://example.org/z</link><guid>z\x00z</guid>"
        b"</item></channel></rss>"
    )
    add_feed(weekly, web_files.url + "/feed.xml")
    assert feeds.poll_all() == 1
    post = Post.query.one()
    assert (post.title, post.guid) == ("a b cd", "zz")


def test_a_relative_link_is_read_against_where_the_feed_came_from(weekly, web_files, servers):
    """RSS asks for absolute links; some feeds write "/2019/08/post". Read against the feed's
    address after its redirects; a guid that is no URL is still no link, and guids stay as
    they were, so a feed polled before and after reads as the same posts."""
    web_files.files["/news/feed.xml"] = rss(
        item("a", "Relative", link="2019/08/post"),
        item("b", "Rooted", link="/about"),
        item("c", "Scripted", link="javascript:alert(1)"),
        "<item><title>Guid only</title><guid>12345</guid></item>",
        "<item><title>Guid link</title><guid>https://example.org/g</guid></item>",
    )
    moved = servers.start(redirect(web_files.url + "/news/feed.xml"))
    add_feed(weekly, moved.url + "/feed.xml")
    assert feeds.poll_all() == 3
    links = {post.title: (post.url, post.guid) for post in Post.query}
    assert links == {
        "Relative": (web_files.url + "/news/2019/08/post", "a"),
        "Rooted": (web_files.url + "/about", "b"),
        "Guid link": ("https://example.org/g", "https://example.org/g"),
    }
    assert feeds.poll_all() == 0


def test_a_link_with_spaces_is_kept_encoded_as_a_browser_would(weekly, web_files):
    """Some sites' feeds write their links with spaces as they are (a file name, a search):
    the post is kept and its link percent-encoded, as a browser sends it; a space in the
    host is no link, and a port past 65535 none either."""
    web_files.files["/feed.xml"] = rss(
        item("a", PERSIAN, link="https://example.org/files/weekly report.pdf?q=a b"),
        item("b", "Spaced host", link="https://exa mple.org/x"),
        item("c", "Port", link="https://example.org:99999/x"),
        item("d", ARABIC, link="https://fa.example.org/خبر/۱۴۰۵"),
    )
    add_feed(weekly, web_files.url + "/feed.xml")
    assert feeds.poll_all() == 2
    assert {post.title: post.url for post in Post.query} == {
        PERSIAN: "https://example.org/files/weekly%20report.pdf?q=a%20b",
        ARABIC: "https://fa.example.org/خبر/۱۴۰۵",
    }


def test_what_blog_software_appends_to_every_excerpt_is_left_out(weekly, web_files):
    """WordPress with Yoast ends each description with "The post X appeared first on Y.",
    themes with "Continue reading “X” →"; the digest shows the post's own words, and
    WordPress's "[…]" as an ellipsis."""
    yoast = (
        "&lt;p&gt;Sanctions keep medicine from patients, a new report finds [&amp;#8230;]&lt;/p&gt;"
        '&lt;p&gt;The post &lt;a rel="nofollow" href="https://example.org/r/"&gt;Sanctions'
        '&lt;/a&gt; appeared first on &lt;a href="https://example.org"&gt;Iran Interlink'
        "&lt;/a&gt;.&lt;/p&gt;"
    )
    theme = (
        "&lt;p&gt;تحریم‌ها دارو را از بیماران دور می‌کنند&amp;#8230; &lt;a href="
        '"https://example.org/fa/r/" class="more-link"&gt;Continue reading&lt;span&gt; '
        "&amp;#8220;تحریم&amp;#8221;&lt;/span&gt; &amp;#8594;&lt;/a&gt;&lt;/p&gt;"
    )
    kept = "The post office appeared first on the map in 1850. It was busy."
    web_files.files["/feed.xml"] = rss(
        item("a", "Sanctions", description=yoast),
        item("b", PERSIAN, description=theme),
        item("c", "History", description=kept),
    )
    add_feed(weekly, web_files.url + "/feed.xml")
    assert feeds.poll_all() == 3
    assert {post.title: post.excerpt for post in Post.query} == {
        "Sanctions": "Sanctions keep medicine from patients, a new report finds…",
        PERSIAN: "تحریم‌ها دارو را از بیماران دور می‌کنند…",
        "History": kept,
    }


def gzipped(body: bytes, encoding: str = "gzip") -> Answer:
    def answer(connection, head):
        connection.sendall(response("200 OK", body, Content_Encoding=encoding))

    return answer


def test_a_gzipped_feed_is_read_and_asked_for(weekly, servers):
    """We ask for gzip, and some servers send it whether asked or not."""
    served = servers.start(gzipped(gzip.compress(rss(item("a", PERSIAN), item("b", ARABIC)))))
    add_feed(weekly, served.url + "/feed.xml")
    assert feeds.poll_all() == 2
    assert {post.title for post in Post.query} == {PERSIAN, ARABIC}
    assert b"\r\nAccept-Encoding: gzip\r\n" in served.heads[0]


@pytest.mark.slow
def test_a_gzip_bomb_is_cut_off_at_the_cap_on_what_it_unpacks_to(weekly, servers):
    bomb = gzip.compress(rss(item("a", "x" * 50_000_000)), compresslevel=9)
    assert len(bomb) < 100_000  # a hundred kilobytes that would unpack to 50 MB
    row = add_feed(weekly, servers.start(gzipped(bomb)).url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row) == "The feed is too large: the feed is larger than 5 MB."


@pytest.mark.parametrize(
    "body, encoding, error",
    [
        (gzip.compress(rss(item("a", "A")))[:-30], "gzip", "the gzipped feed was cut short"),
        (b"not gzip at all", "x-gzip", "the gzipped feed could not be unpacked"),
        (rss(item("a", "A")), "br", "the server sent the feed encoded as 'br', which we do not"),
    ],
    ids=["cut short", "not gzip", "unasked brotli"],
)
def test_a_feed_packed_wrong_fails_saying_how(weekly, servers, body, encoding, error):
    row = add_feed(weekly, servers.start(gzipped(body, encoding)).url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row).startswith(f"Could not reach the feed: {error}")
    assert Post.query.count() == 0
