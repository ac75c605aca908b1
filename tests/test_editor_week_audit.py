"""An editor's week in the admin, step by step, on the organisation's own feed: add it,
fetch it, read the week's posts, compose an issue, edit, preview, test, schedule, send,
and read what the readers did."""

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from html import unescape
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from builders import SAMPLE, confirmed_subscriber, counted, path_of, tracked_links
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Feed, Issue, Post
from newsletter.posts import feeds
from newsletter.posts.service import add_feed

# An end-to-end audit, each case through a real send and the SMTP sink: in CI's full suite,
# not the quick loop.
pytestmark = pytest.mark.slow

PERSIAN_TITLE = "گزارش تازه دربارهٔ اردوگاه اشرف"
EMOJI_TITLE = "🇮🇷📰🔥"
TWIN_TITLE = "Weekly Digest"
INTRO = 'سلام خوانندگان 👋 — <script>alert("x")</script> & "quotes" < 5 > 3'
# Three more items of the same site: one in Persian, two sharing a title, one only emoji.
EXTRA = f"""
<item><title>{PERSIAN_TITLE}</title><link>https://interlink.example/fa/ashraf/</link>
<guid>fa-ashraf</guid><pubDate>Tue, 06 Aug 2019 09:00:00 +0000</pubDate>
<dc:creator>ایران اینترلینک</dc:creator>
<description>خلاصه‌ای از گزارش &lt;b&gt;تازه&lt;/b&gt; دربارهٔ اردوگاه.</description></item>
<item><title>{TWIN_TITLE}</title><link>https://interlink.example/twin-1/</link>
<guid>twin-1</guid><pubDate>Tue, 06 Aug 2019 10:00:00 +0000</pubDate>
<description>The first of two.</description></item>
<item><title>{TWIN_TITLE}</title><link>https://interlink.example/twin-2/</link>
<guid>twin-2</guid><pubDate>Tue, 06 Aug 2019 11:00:00 +0000</pubDate>
<description>The second of two.</description></item>
<item><title>{EMOJI_TITLE}</title><link>https://interlink.example/emoji/</link>
<guid>emoji</guid><pubDate>Tue, 06 Aug 2019 12:00:00 +0000</pubDate>
<description>Only emoji in the title.</description></item>
"""
FEED = SAMPLE.replace(b"</channel>", EXTRA.encode() + b"</channel>")
UNDATED = "Iran Blasts US , EU support for MKO Terrorists – Mersad Anniversary"


@pytest.fixture
def interlink(make_list):
    return make_list(
        slug="interlink",
        name="Iran Interlink",
        from_email="digest@interlink.example",
        from_name="Iran Interlink",
        timezone="Asia/Tehran",
    )


@pytest.fixture
def fetched(interlink, web_files):
    """The site's feed, added and fetched (in this process: the worker's part is tested once)."""
    web_files.files["/feed.xml"] = FEED
    feed = add_feed(interlink, web_files.url + "/feed.xml")
    feeds.fetch_feed(feed)
    return feed


def _post(client, path, **form):
    return client.post(path, data={"csrf_token": client.token, **form})


def _flashes(page_text: str) -> str:
    return unescape(page_text)


def _compose(client, subject="", since="2019-08-03", until="2019-08-10"):
    return _post(
        client, "/admin/lists/interlink/compose", since=since, until=until, subject=subject
    )


def _issue() -> Issue:
    db.session.expire_all()
    return db.session.scalars(sa.select(Issue).order_by(Issue.id.desc())).first()


def _editor_form(issue: Issue, **changes) -> dict:
    """The editor's form as the page sends it: every item kept, in its order."""
    form = {
        "subject": issue.subject,
        "preheader": issue.preheader or "",
        "intro": issue.intro or "",
        "item_post_id": [str(i.post_id) for i in issue.items],
        "item_position": [str(n + 1) for n in range(len(issue.items))],
        "item_section": ["" for _ in issue.items],
        "item_title": [i.title for i in issue.items],
        "item_excerpt": [i.excerpt or "" for i in issue.items],
        "item_url": [i.url for i in issue.items],
        "item_source": [i.source or "" for i in issue.items],
        "item_keep": [str(n) for n in range(len(issue.items))],
    }
    form.update(changes)
    return form


# --- 1. The feed and the week's posts ------------------------------------------------------


def test_the_feed_added_and_fetched_in_the_admin_lists_the_weeks_posts(
    editor_client, interlink, web_files, worker
):
    web_files.files["/feed.xml"] = FEED
    added = _post(editor_client, "/admin/lists/interlink/feeds", url=web_files.url + "/feed.xml")
    assert added.status_code == 302
    assert "Feed added." in editor_client.get(added.headers["Location"]).text
    feed = db.session.scalar(sa.select(Feed))
    fetch = _post(editor_client, f"/admin/feeds/{feed.id}/fetch")
    assert fetch.status_code == 302
    wait_until(lambda: db.session.scalar(sa.select(sa.func.count(Post.id))) == 14)

    page = editor_client.get("/admin/lists/interlink/posts?since=2019-07-01&until=2019-08-31")
    assert page.status_code == 200
    text = page.text
    # Titles exactly, with their curly quotes; sources; dates in Tehran with UTC beside.
    assert "MEK : Totalitarian Cult , or Iran’s Brightest Hope for Democracy ?" in text
    assert "Amil Imani, PipeLineNews" in text
    assert "Thu 15 Aug 2019, 13:30 Asia/Tehran (09:00 UTC)" in text
    # Both posts of the same title are listed, and the emoji-only one.
    assert text.count(f">{TWIN_TITLE}</a>") == 2
    assert EMOJI_TITLE in text
    # The Persian post and its source read right to left on their own.
    assert '<tr dir="auto"><td><a href="https://interlink.example/fa/ashraf/"' in text
    assert '<td dir="auto">ایران اینترلینک</td>' in text


def test_the_posts_page_shows_each_posts_excerpt(editor_client, fetched):
    """An editor picks the week's posts by what they say, not by their titles alone."""
    text = editor_client.get("/admin/lists/interlink/posts?since=2019-07-01").text
    assert "OIAC or MEK is an Islamist-Marxist cultish group" in text
    assert "خلاصه‌ای از گزارش تازه" in text  # the feed's <b> gone, the words kept
    assert "&lt;b&gt;" not in text


def test_the_undated_post_is_listed_as_first_seen_today(editor_client, fetched):
    text = editor_client.get("/admin/lists/interlink/posts").text
    assert UNDATED in text
    assert "first seen" in text
    # The dated ones are older than the default range, and the page says how to see them.
    assert "13 older posts are not shown" in text


def test_adding_the_same_feed_twice_says_so(editor_client, fetched):
    again = _post(editor_client, "/admin/lists/interlink/feeds", url=fetched.url)
    assert "This list already has that feed." in editor_client.get(again.headers["Location"]).text
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


# --- 2. Compose, edit, preview, test, schedule ---------------------------------------------

LONG_PERSIAN = ("گزیدهٔ هفتگی ایران اینترلینک: " + "خبرها و تحلیل‌ها " * 15).strip()


def test_a_long_persian_subject_is_kept_exactly(editor_client, fetched):
    assert len(LONG_PERSIAN) < 300
    composed = _compose(editor_client, subject=LONG_PERSIAN)
    assert composed.status_code == 302
    issue = _issue()
    assert issue.subject == LONG_PERSIAN
    # The week of 3 to 9 August in Tehran: 7 of the sample's posts and our 4, same titles both.
    titles = [item.title for item in issue.items]
    assert titles.count(TWIN_TITLE) == 2 and EMOJI_TITLE in titles and PERSIAN_TITLE in titles
    page = editor_client.get(composed.headers["Location"]).text
    assert f'<h1 dir="auto">#1 {LONG_PERSIAN}</h1>' in page


def test_a_thousand_character_subject_is_refused_and_kept_in_the_form(editor_client, fetched):
    subject = "خ" * 1000
    answer = _compose(editor_client, subject=subject)
    assert answer.status_code == 422
    assert "The subject can be at most 300 characters." in answer.text
    assert subject in answer.text  # nothing typed is lost
    assert _issue() is None


def test_a_week_with_no_posts_is_refused_in_the_lists_days(editor_client, fetched):
    answer = _compose(editor_client, since="2020-01-01", until="2020-01-08")
    assert answer.status_code == 422
    error = _flashes(answer.text).split('role="alert">', 1)[1].split("</p>", 1)[0]
    # Said in the days the editor typed, in the list's zone (not Tehran's midnight in UTC).
    assert error == "There are no posts from 2020-01-01 00:00 until 2020-01-08 00:00 Asia/Tehran."


def test_an_empty_subject_on_save_is_refused_and_the_edits_are_kept(editor_client, fetched):
    _compose(editor_client)
    issue = _issue()
    first, second = issue.items[0], issue.items[1]
    form = _editor_form(issue, subject="", intro=INTRO)
    # The second post first, the first one removed.
    form["item_position"] = ["2", "1", *form["item_position"][2:]]
    form["item_keep"] = [k for k in form["item_keep"] if k != "0"]
    answer = _post(editor_client, f"/admin/issues/{issue.id}", **form)
    assert answer.status_code == 422
    text = _flashes(answer.text)
    assert "The subject cannot be empty." in text
    # What the editor typed is on the page to mend, not thrown away.
    assert INTRO in text
    assert second.title in text
    assert _issue().items[0].title == first.title  # and nothing was half saved


def test_reordering_removing_and_a_special_intro_reach_the_preview(editor_client, fetched):
    _compose(editor_client)
    issue = _issue()
    titles = [item.title for item in issue.items]
    form = _editor_form(issue, subject="Iran Interlink – week 32", intro=INTRO)
    form["item_position"] = ["2", "1", *form["item_position"][2:]]
    form["item_keep"] = [k for k in form["item_keep"] if k != "2"]
    saved = _post(editor_client, f"/admin/issues/{issue.id}", **form)
    assert saved.status_code == 302
    issue = _issue()
    assert [item.title for item in issue.items] == [titles[1], titles[0], *titles[3:]]
    html = editor_client.get(f"/admin/issues/{issue.id}/preview.html").text
    # The intro is Markdown: its HTML is sanitised (the script gone), the rest escaped.
    assert "alert" not in html and "&lt; 5 &gt; 3" in html
    assert "سلام خوانندگان 👋" in html
    assert html.index(titles[1]) < html.index(titles[0])
    assert titles[2] not in html
    text = editor_client.get(f"/admin/issues/{issue.id}/preview.txt").text
    assert "سلام خوانندگان 👋" in text and '"quotes" < 5 > 3' in text
    # The editor's page escapes it too.
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "<script>alert" not in page


def test_a_persian_item_reads_right_to_left_in_the_preview(editor_client, fetched):
    _compose(editor_client)
    html = editor_client.get(f"/admin/issues/{_issue().id}/preview.html").text
    start = html.index(PERSIAN_TITLE)
    item = html[html.rindex('<div class="item"', 0, start) : start]
    assert 'dir="rtl"' in item
    assert EMOJI_TITLE in html


def test_the_preview_can_be_read_as_each_language_the_readers_read(editor_client, fetched):
    """An English list with Persian readers sends two letters; the editor sees both."""
    _compose(editor_client)
    issue = _issue()
    english = editor_client.get(f"/admin/issues/{issue.id}/preview.html")
    assert 'lang="en"' in english.text
    persian = editor_client.get(f"/admin/issues/{issue.id}/preview.html?lang=fa")
    assert persian.status_code == 200
    assert 'lang="fa" dir="rtl"' in persian.text
    text = editor_client.get(f"/admin/issues/{issue.id}/preview.txt?lang=fa").text
    assert "Unsubscribe" not in text and "لغو" in text
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert f"/admin/issues/{issue.id}/preview.html?lang=fa" in page


def test_a_test_send_arrives_whole(editor_client, fetched, inbox):
    _compose(editor_client, subject=LONG_PERSIAN)
    issue = _issue()
    _post(editor_client, f"/admin/issues/{issue.id}", **_editor_form(issue, intro=INTRO))
    sent = _post(editor_client, f"/admin/issues/{issue.id}/test")
    assert "A test is on its way to writer@example.org." in _flashes(
        editor_client.get(sent.headers["Location"]).text
    )
    received = inbox.wait_for(1, recipient="writer@example.org")[0]
    message = received.message
    raw_subject = received.data.split(b"\r\nSubject: ", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert raw_subject.isascii()  # encoded words, as RFC 2047 wants
    assert str(make_header(decode_header(message["Subject"]))) == f"[Test] {LONG_PERSIAN}"
    assert message["From"].addresses[0].display_name == "Iran Interlink"
    assert message["From"].addresses[0].addr_spec == "digest@interlink.example"
    assert "<mailto:" in message["List-Unsubscribe"] and "<http" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, text = received.part("html"), received.part("plain")
    assert "https://interlink.example/fa/ashraf/" in html or tracked_links(received)
    assert "alert" not in html and "&lt; 5 &gt; 3" in html
    assert PERSIAN_TITLE in text and "https://interlink.example/fa/ashraf/" in text


def _schedule(client, issue, **form):
    return _post(client, f"/admin/issues/{issue.id}/schedule", when="moment", **form)


def test_schedule_in_the_lists_zone_reschedule_cancel(editor_client, fetched):
    _compose(editor_client)
    issue = _issue()
    next_year = datetime.now(UTC).year + 1
    answer = _schedule(editor_client, issue, send_at=f"{next_year}-01-15T09:00")
    assert answer.status_code == 302
    issue = _issue()
    assert issue.status == "scheduled"
    assert issue.send_at == datetime(next_year, 1, 15, 5, 30, tzinfo=UTC)  # Tehran is +03:30
    page = editor_client.get(answer.headers["Location"]).text
    assert f"15 Jan {next_year}, 09:00 Asia/Tehran (05:30 UTC)" in page

    # Reschedule: unschedule, then a new time.
    _post(editor_client, f"/admin/issues/{issue.id}/unschedule")
    assert _issue().status == "draft"
    _schedule(editor_client, issue, send_at=f"{next_year}-01-16T10:00")
    assert _issue().send_at == datetime(next_year, 1, 16, 6, 30, tzinfo=UTC)

    # Cancel wants a tick; once cancelled, a schedule is refused in words.
    _post(editor_client, f"/admin/issues/{issue.id}/cancel")
    assert _issue().status == "scheduled"
    _post(editor_client, f"/admin/issues/{issue.id}/cancel", confirm="yes")
    assert _issue().status == "cancelled"
    again = _schedule(editor_client, issue, send_at=f"{next_year}-01-17T10:00")
    assert again.status_code == 409
    assert "cancelled" in again.text
    # The week can still go out: composed again from the same days.
    assert _compose(editor_client).status_code == 302
    assert _issue().number == 2


def test_a_scheduled_issues_time_can_be_changed_in_one_step(editor_client, fetched):
    """listmonk and Buttondown let the editor change a scheduled time where it is shown."""
    _compose(editor_client)
    issue = _issue()
    next_year = datetime.now(UTC).year + 1
    _schedule(editor_client, issue, send_at=f"{next_year}-01-15T09:00")
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert 'name="send_at"' in page
    moved = _schedule(editor_client, issue, send_at=f"{next_year}-01-16T09:00")
    assert moved.status_code == 302
    issue = _issue()
    assert issue.status == "scheduled"
    assert issue.send_at == datetime(next_year, 1, 16, 5, 30, tzinfo=UTC)
    # A time in the past leaves it as it was: scheduled, at its time.
    refused = _schedule(editor_client, issue, send_at="2019-08-10T09:00")
    assert refused.status_code == 422
    issue = _issue()
    assert issue.status == "scheduled"
    assert issue.send_at == datetime(next_year, 1, 16, 5, 30, tzinfo=UTC)


def test_a_time_in_the_past_is_refused_and_kept_in_the_form(editor_client, fetched):
    _compose(editor_client)
    issue = _issue()
    answer = _schedule(editor_client, issue, send_at="2019-08-10T09:00")
    assert answer.status_code == 422
    assert "That time has passed: choose a later one." in _flashes(answer.text)
    assert 'value="2019-08-10T09:00"' in answer.text
    assert _issue().status == "draft"


def test_a_time_the_clocks_skip_is_moved_and_said(editor_client, make_list, web_files):
    london = make_list(slug="interlink", name="Iran Interlink", timezone="Europe/London")
    web_files.files["/feed.xml"] = FEED
    feeds.fetch_feed(add_feed(london, web_files.url + "/feed.xml"))
    _compose(editor_client)
    issue = _issue()
    year = datetime.now(UTC).year + 1
    last_sunday = max(
        day
        for day in (datetime(year, 3, 31) - timedelta(days=n) for n in range(7))
        if day.weekday() == 6
    )
    answer = _schedule(editor_client, issue, send_at=f"{last_sunday:%Y-%m-%d}T01:30")
    assert answer.status_code == 302
    text = _flashes(editor_client.get(answer.headers["Location"]).text)
    assert "01:30 does not exist in Europe/London" in text
    assert _issue().send_at == datetime(year, 3, last_sunday.day, 1, 30, tzinfo=UTC)


# --- 3. After the send ---------------------------------------------------------------------


def test_after_the_send_the_issue_page_and_the_archive_show_what_readers_did(
    editor_client, fetched, inbox, worker, client
):
    interlink = fetched.mailing_list
    for n in range(3):
        confirmed_subscriber(interlink, f"reader{n}@example.org", f"Reader {n}")
    inbox.handler.refuse["reader2@example.org"] = "550 5.1.1 <reader2@example.org>: user unknown"
    _compose(editor_client, subject=LONG_PERSIAN)
    issue = _issue()
    _post(editor_client, f"/admin/issues/{issue.id}", **_editor_form(issue, intro=INTRO))
    _post(editor_client, f"/admin/issues/{issue.id}/send", confirm="yes")
    wait_until(lambda: _issue().status == "sent", timeout=30)
    wait_until(lambda: issue_bounces(issue.id), timeout=30)

    copy = inbox.to("reader0@example.org")[0]
    url, *_ = tracked_links(copy)[0]
    assert client.get(path_of(url)).status_code in (302, 303)
    # One reader leaves with the one-click POST of the List-Unsubscribe header.
    unsubscribe = copy.message["List-Unsubscribe"].split("<http", 1)[1].split(">", 1)[0]
    assert client.post(path_of("http" + unsubscribe), data={}).status_code in (200, 204, 302)
    counted()

    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert '<span id="sent">2</span> sent' in page
    assert '<span id="failed">1</span> failed' in page
    assert "1 hard" in page and "user unknown" in page
    assert "1 clicks · 1 unique clickers" in page
    assert "1 unsubscribed" in page

    api = editor_client.get(f"/api/v1/issues/{issue.id}")
    assert api.status_code in (200, 401)  # the API speaks to tokens, not to the session

    archive = client.get("/archive/interlink")
    assert f'dir="auto">{LONG_PERSIAN}</a>' in archive.text
    shown = client.get("/archive/interlink/1").text
    assert PERSIAN_TITLE in shown and "&lt; 5 &gt; 3" in shown and "alert" not in shown
    assert "/r/" not in shown and "/unsubscribe/" not in shown
    assert urlsplit(unsubscribe).path not in shown


def issue_bounces(issue_id: int) -> int:
    from newsletter import bounce_history

    counts = bounce_history.counts_for_issue(issue_id)
    return counts["hard"] + counts["soft"]
