"""A feed URL is chosen by whoever adds the feed, so the server must not be made to fetch
from itself or its network: refused after resolving, on every redirect, unless the operator
named the host. (The suite allows 127.0.0.1, where its feeds are served; these tests don't.)"""

import socket

import pytest
from builders import item, rss
from hostile_servers import Servers, feed, redirect

from newsletter.extensions import db
from newsletter.models import Feed, Post
from newsletter.posts import feeds

REFUSED = "Could not reach the feed: address not allowed."
INTERNAL_FEED = rss(item("secret", "Internal only"))


@pytest.fixture
def servers():
    with Servers() as started:
        yield started


@pytest.fixture
def refusing(app):
    """No host named by the operator; short timeouts for when something does connect."""
    app.config.update(FEED_ALLOW_HOSTS="", FEED_TIMEOUT=2.0, FEED_DEADLINE=4.0)
    return app


def stored_feed(mailing_list, url: str) -> Feed:
    """A feed as the database may hold it: added while allowed, or by a name that now
    resolves elsewhere."""
    row = Feed(list_id=mailing_list.id, url=url)
    db.session.add(row)
    db.session.commit()
    return row


def error_of(row: Feed) -> str | None:
    db.session.expire_all()
    return db.session.get(Feed, row.id).last_error


def internal_forms(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/feed.xml",
        f"http://0x7f000001:{port}/feed.xml",
        f"http://2130706433:{port}/feed.xml",
        f"http://127.1:{port}/feed.xml",
        f"http://0.0.0.0:{port}/feed.xml",
        f"http://[::1]:{port}/feed.xml",
        f"http://[::ffff:127.0.0.1]:{port}/feed.xml",
        f"http://localhost:{port}/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/feed.xml",
        "http://[fe80::1]/feed.xml",
    ]


def test_internal_addresses_are_refused_before_connecting(refusing, weekly, servers):
    inside = servers.start(feed(INTERNAL_FEED))
    for url in internal_forms(inside.port):
        row = stored_feed(weekly, url)
        with pytest.raises(feeds.FeedError):
            feeds.fetch_feed(row)
        assert error_of(row) == REFUSED, url
    assert inside.connections == 0
    assert Post.query.count() == 0


def test_adding_a_feed_at_an_internal_address_is_refused(refusing, weekly, client, api_headers):
    for url in (
        "http://127.0.0.1:6379/",
        "http://0x7f000001:5432/",
        "http://[::1]/",
        "http://169.254.169.254/",
    ):
        answer = client.post(
            "/api/v1/feeds", json={"url": url, "list": "weekly"}, headers=api_headers
        )
        assert answer.status_code == 422, url
        assert "address not allowed" in answer.json["error"]["message"]
    assert Feed.query.count() == 0


def test_redirects_to_internal_addresses_are_refused_at_each_hop(refusing, weekly, servers):
    inside = servers.start(feed(INTERNAL_FEED))
    targets = [*internal_forms(inside.port)[:8], "http://169.254.169.254/latest/meta-data/"]
    for target in targets:
        outside = servers.start(redirect(target))
        refusing.config["FEED_ALLOW_HOSTS"] = f"127.0.0.1:{outside.port}"
        row = stored_feed(weekly, outside.url + "/feed.xml")
        with pytest.raises(feeds.FeedError):
            feeds.fetch_feed(row)
        assert error_of(row) == REFUSED, target
        assert outside.connections == 1
    assert inside.connections == 0
    assert Post.query.count() == 0


def test_a_redirect_to_ftp_is_refused(refusing, weekly, servers):
    inside = servers.start(feed(INTERNAL_FEED))
    outside = servers.start(redirect(f"ftp://127.0.0.1:{inside.port}/feed.xml"))
    refusing.config["FEED_ALLOW_HOSTS"] = "127.0.0.1"
    row = stored_feed(weekly, outside.url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row) == "Could not reach the feed: only http and https addresses are fetched."
    assert inside.connections == 0


def test_redirects_stop_after_a_few_hops(weekly, servers):
    loop = servers.start(redirect("/again"))
    row = stored_feed(weekly, loop.url + "/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row) == "Could not reach the feed: too many redirects."
    assert loop.connections == 6


def test_the_stored_error_does_not_tell_what_listens_on_a_port(
    refusing, weekly, servers, inbox_server
):
    from conftest import free_port

    web = servers.start(feed(INTERNAL_FEED))
    for port in (web.port, free_port(), inbox_server.port):
        stored_feed(weekly, f"http://127.0.0.1:{port}/")
    assert feeds.poll_all() == 0
    db.session.expire_all()
    assert [f.last_error for f in Feed.query.order_by(Feed.id)] == [REFUSED] * 3


def test_hosts_the_operator_names_are_fetched_and_only_those(refusing, weekly, servers):
    titles = ("📰 گزارش هفتگی", "خبر عاجل 🌙", "نشرة — العربية ✨")
    named = servers.start(feed(rss(*(item(f"p{i}", t) for i, t in enumerate(titles)))))
    hop = servers.start(redirect(named.url + "/feed.xml", "301 Moved Permanently"))
    other = servers.start(feed(INTERNAL_FEED))
    refusing.config["FEED_ALLOW_HOSTS"] = f" 127.0.0.1:{named.port} , [::1]:1,127.0.0.1:{hop.port}"
    assert feeds.fetch_feed(stored_feed(weekly, hop.url + "/feed.xml")) == 3
    assert sorted(p.title for p in Post.query) == sorted(titles)
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(stored_feed(weekly, other.url + "/feed.xml"))
    assert other.connections == 0


@pytest.fixture
def dns(monkeypatch):
    """feeds.example.test resolves to 127.0.0.1; each lookup of it is counted."""
    lookups = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "feeds.example.test":
            lookups.append(host)
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_is_checked_by_the_address_it_resolves_to(refusing, weekly, servers, dns):
    inside = servers.start(feed(INTERNAL_FEED))
    row = stored_feed(weekly, f"http://feeds.example.test:{inside.port}/feed.xml")
    with pytest.raises(feeds.FeedError):
        feeds.fetch_feed(row)
    assert error_of(row) == REFUSED
    assert inside.connections == 0


def test_a_named_host_is_resolved_once_and_connected_to_at_that_address(
    refusing, weekly, servers, dns
):
    inside = servers.start(feed(INTERNAL_FEED))
    refusing.config["FEED_ALLOW_HOSTS"] = "feeds.example.test"
    assert feeds.fetch_feed(stored_feed(weekly, f"http://feeds.example.test:{inside.port}/")) == 1
    assert dns == ["feeds.example.test"]
    assert f"Host: feeds.example.test:{inside.port}".encode() in inside.heads[0]
