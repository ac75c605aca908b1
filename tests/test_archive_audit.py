"""The public archive as a reader, a feed reader and a search engine meet it, in English and
Persian: the feed against RSS 2.0, the pages' heads, HTTP caching (RFC 9110/9111), what is
never shown, and odd paths. Expectations were written before these cases were run."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest
from builders import add_subscribers, confirmed_subscriber, draft, start_sending

from newsletter.digest.render import render_issue
from newsletter.extensions import db
from newsletter.models import Issue, IssueItem, IssueVariant
from newsletter.sending import loop
from newsletter.subscriptions import service

BASE = "http://newsletter.test"
ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 822 as RSS 2.0 takes it, with RFC 1123's four-digit year.
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$"
)
HOSTILE = "A ]]> B <![CDATA[ x ]]> & <b>bold</b> \x01\x0b\ufffe"


def archived(mailing_list, number, status="sent", subject=None, title="A post", **fields):
    made = Issue(
        list_id=mailing_list.id,
        number=number,
        subject=subject or f"Issue {number}",
        status=status,
        started_at=datetime(2019, 8, 1 + number % 28, 9, tzinfo=UTC),
        items=[IssueItem(position=0, title=title, url="https://example.org/a", source="Ex")],
        **fields,
    )
    db.session.add(made)
    db.session.commit()
    return made


NAME_FA = "ایران اینترلینک — Weekly"
ABOUT_FA = "گزیدهٔ هفتگی خبرها و تحلیل‌ها دربارهٔ ایران"


def head_link(html: str, rel: str) -> str | None:
    found = re.search(rf'<link rel="{rel}"[^>]*href="([^"]*)"', html)
    return found and found.group(1)


# --- The feed -------------------------------------------------------------------------------


def test_the_feed_has_what_rss_requires_in_the_list_s_language(client, persian_list):
    archived(persian_list, 1, subject="شمارهٔ ۱ — 東京 🐟 عربي")
    archived(persian_list, 2, subject="Issue two")
    answer = client.get("/archive/interlink/feed.xml")
    assert answer.content_type == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(answer.data).find("channel")
    assert channel.findtext("title") == NAME_FA
    assert channel.findtext("link") == f"{BASE}/archive/interlink"
    assert channel.findtext("description") == ABOUT_FA
    assert channel.findtext("language") == "fa"
    self_link = channel.find(f"{ATOM}link")
    assert (
        self_link.get("rel") == "self"
        and self_link.get("href") == f"{BASE}/archive/interlink/feed.xml"
    )
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Issue two", "شمارهٔ ۱ — 東京 🐟 عربي"]
    for item, number in zip(items, (2, 1), strict=True):
        assert (
            item.findtext("link") == item.findtext("guid") == f"{BASE}/archive/interlink/{number}"
        )
        assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")


def test_the_feed_stays_xml_with_cdata_ends_and_control_characters(client, weekly):
    archived(weekly, 1, subject=HOSTILE, title=HOSTILE)
    weekly.name = "News ]]> & <more>\x02"
    db.session.commit()
    body = client.get("/archive/weekly/feed.xml").data
    channel = ET.fromstring(body).find("channel")
    assert channel.findtext("title") == "News ]]> & <more>"
    item = channel.find("item")
    assert item.findtext("title") == "A ]]> B <![CDATA[ x ]]> & <b>bold</b> "
    shown = '<li dir="auto">A ]]&gt; B &lt;![CDATA[ x ]]&gt; &amp; &lt;b&gt;'
    assert shown in item.findtext("description")
    assert not feedparser.parse(body).bozo


def test_the_feed_is_the_same_on_every_request(client, weekly):
    for number in (1, 2, 3):
        archived(weekly, number)
    first, second = (client.get("/archive/weekly/feed.xml") for _ in range(2))
    assert first.data == second.data
    guids = [i.findtext("guid") for i in ET.fromstring(first.data).iter("item")]
    assert len(set(guids)) == 3


def test_an_empty_list_has_a_valid_feed(client, weekly):
    parsed = feedparser.parse(client.get("/archive/weekly/feed.xml").data)
    assert not parsed.bozo and parsed.entries == []
    assert parsed.feed.title == "Weekly Digest"


@pytest.mark.parametrize("status", ["draft", "scheduled", "paused", "cancelled"])
def test_what_did_not_go_out_is_nowhere_in_the_archive(client, weekly, status):
    archived(weekly, 1, status=status, subject="Secret plans")
    archived(weekly, 2, kind="post", subject="A post issue")
    for path in ("/archive/weekly", "/archive/weekly/feed.xml"):
        text = client.get(path).text
        assert "Secret plans" not in text and "A post issue" not in text
    for path in ("/archive/weekly/1", "/archive/weekly/2"):
        assert client.get(path).status_code == 404


def test_a_sent_issue_s_archive_names_no_reader(client, weekly, inbox):
    """A real send: the archive and feed carry no reader's links or name, before or after
    the reader is erased."""
    reader = confirmed_subscriber(weekly, "ana@example.org", name="Ana Secret")
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)
    inbox.wait_for(2)
    paths = ("/archive/weekly", f"/archive/weekly/{issue.number}", "/archive/weekly/feed.xml")
    for erased in (False, True):
        if erased:
            service.erase(reader)
        for path in paths:
            text = client.get(path).text
            for personal in ("/unsubscribe/", "/preferences/", "/r/", "/o/", "@@NL", "Ana", "ana@"):
                assert personal not in text, (path, personal)


# --- HTTP: caching, HEAD, headers -----------------------------------------------------------


ARCHIVE_PATHS = ("/archive/weekly", "/archive/weekly/1", "/archive/weekly/feed.xml")


@pytest.mark.parametrize("path", ARCHIVE_PATHS)
def test_a_reader_revalidates_with_the_etag_and_gets_304(client, weekly, path):
    archived(weekly, 1)
    first = client.get(path)
    tag = first.headers.get("ETag")
    assert tag, "no ETag"
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_new_issue_changes_the_feed_s_etag(client, weekly):
    archived(weekly, 1)
    before = client.get("/archive/weekly/feed.xml").headers.get("ETag")
    archived(weekly, 2)
    after = client.get("/archive/weekly/feed.xml", headers={"If-None-Match": before or '""'})
    assert after.status_code == 200 and after.headers.get("ETag") not in (None, before)


@pytest.mark.parametrize("path", ARCHIVE_PATHS)
def test_archive_answers_say_how_long_they_keep(client, weekly, path):
    archived(weekly, 1)
    answer = client.get(path)
    cache = answer.headers.get("Cache-Control", "")
    assert "public" in cache and re.search(r"max-age=\d+", cache), cache
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ARCHIVE_PATHS)
def test_head_answers_like_get_without_a_body(client, weekly, path):
    archived(weekly, 1)
    got, head = client.get(path), client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]


# --- The index: pages of issues -------------------------------------------------------------


@pytest.mark.slow
def test_a_long_archive_comes_in_pages(client, weekly):
    for number in range(1, 61):
        archived(weekly, number)
    first = client.get("/archive/weekly")
    shown = re.findall(r'href="/archive/weekly/(\d+)"', first.text)
    assert shown[0] == "60" and 10 <= len(shown) <= 50
    following = re.search(r'<a[^>]*rel="next"[^>]*href="([^"]+)"', first.text)
    assert following and following.group(1).endswith("?page=2")
    second = client.get("/archive/weekly?page=2")
    assert second.status_code == 200
    more = re.findall(r'href="/archive/weekly/(\d+)"', second.text)
    assert int(more[0]) == int(shown[-1]) - 1
    assert re.search(r'<a[^>]*rel="prev"', second.text)
    assert head_link(second.text, "canonical") == f"{BASE}/archive/weekly?page=2"
    assert head_link(first.text, "canonical") == f"{BASE}/archive/weekly"


@pytest.mark.parametrize(
    "query", ["page=99", "page=0", "page=-1", "page=abc", "page=1.5", f"page={2**64}", "page=%ff"]
)
def test_a_page_that_is_not_there_is_not_found(client, weekly, query):
    archived(weekly, 1)
    assert client.get(f"/archive/weekly?{query}").status_code == 404


def test_the_index_tells_search_engines_what_it_is(client, persian_list):
    archived(persian_list, 1, subject="شمارهٔ نخست")
    page = client.get("/archive/interlink").text
    assert '<html lang="fa" dir="rtl">' in page
    assert f'<meta name="description" content="{ABOUT_FA}">' in page
    assert head_link(page, "canonical") == f"{BASE}/archive/interlink"
    assert 'dir="auto">شمارهٔ نخست</a>' in page
    assert "۱" in page  # its number in Persian digits


# --- An issue's page ------------------------------------------------------------------------


def test_an_issue_page_tells_search_engines_what_it_is(client, persian_list):
    archived(persian_list, 3, subject="شمارهٔ سوم & <more>", preheader="خلاصهٔ این هفته")
    page = client.get("/archive/interlink/3").text
    assert '<html lang="fa" dir="rtl">' in page
    assert "<title>شمارهٔ سوم &amp; &lt;more&gt;</title>" in page
    assert head_link(page, "canonical") == f"{BASE}/archive/interlink/3"
    assert '<meta name="description" content="خلاصهٔ این هفته">' in page
    assert head_link(page, "alternate") == f"{BASE}/archive/interlink/feed.xml"


def test_an_issue_without_a_preheader_is_described_by_its_list(client, persian_list):
    archived(persian_list, 1)
    assert (
        f'<meta name="description" content="{ABOUT_FA}">' in client.get("/archive/interlink/1").text
    )


def test_a_number_written_another_way_names_the_one_page(client, weekly):
    archived(weekly, 1)
    answer = client.get("/archive/weekly/01")
    assert answer.status_code in (200, 301, 308, 404)
    if answer.status_code == 200:
        assert head_link(answer.text, "canonical") == f"{BASE}/archive/weekly/1"


@pytest.mark.parametrize(
    "path",
    [
        "/archive/weekly/0",
        "/archive/weekly/-1",
        "/archive/weekly/1.0",
        "/archive/weekly/abc",
        f"/archive/weekly/{10**30}",
        "/archive/weekly/1/",
        "/archive/weekly/feed.xml/",
        "/archive/weekly/%2e%2e",
        "/archive/weekly/%E2%80%AE1",
        "/archive/%ff%fe",
        "/archive/" + "a" * 500,
        "/archive/" + "a" * 500 + "/feed.xml",
        "/archive/weekly/%25",
    ],
)
def test_odd_paths_are_not_found(client, weekly, path):
    archived(weekly, 1)
    assert client.get(path).status_code == 404, path


def test_an_ab_tested_issue_is_archived_under_the_subject_its_readers_got(client, weekly):
    issue = archived(weekly, 1, subject="Working title")
    subjects = enumerate(("Short", "Long one"), 1)
    issue.variants = [IssueVariant(position=n, subject=s) for n, s in subjects]
    db.session.commit()
    issue.ab_winner = issue.variants[1].id
    issue.ab_decide_at = datetime(2019, 8, 2, 12, tzinfo=UTC)
    db.session.commit()
    assert "<title>Long one</title>" in client.get("/archive/weekly/1").text
    assert "Long one" in client.get("/archive/weekly").text
    feed = feedparser.parse(client.get("/archive/weekly/feed.xml").data)
    assert feed.entries[0].title == "Long one"


# --- What leads to the archive --------------------------------------------------------------


def test_a_private_list_s_email_offers_no_archive_page(make_list):
    """Its archive is a 404 to everyone, the reader who follows "View in your browser" too."""
    staff = make_list(slug="staff", public=False)
    issue = draft(staff)
    html, text = render_issue(issue)
    assert "/archive/" not in html and "/archive/" not in text
