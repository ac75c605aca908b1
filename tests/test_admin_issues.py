"""Editors in the browser: posts and feeds, composing, editing, previewing, sending."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from builders import confirmed_subscriber
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Delivery, Feed, Issue, Post


def add_post(mailing_list, guid, title, when=None, source="Example"):
    post = Post(
        list_id=mailing_list.id,
        guid=guid,
        url=f"https://example.org/{guid}",
        title=title,
        source=source,
        excerpt=f"About {title}",
        published_at=when or datetime.now(UTC),
    )
    db.session.add(post)
    db.session.commit()
    return post


def compose(client, slug="weekly") -> Issue:
    page = client.get(f"/admin/lists/{slug}/compose")
    form = {
        k: re.search(rf'name="{k}" type="date" value="([^"]+)"', page.text).group(1)
        for k in ("since", "until")
    }
    answer = client.post(f"/admin/lists/{slug}/compose", data=form | {"csrf_token": client.token})
    assert answer.status_code == 302, answer.text
    return db.session.get(Issue, int(answer.headers["Location"].rsplit("/", 1)[1]))


def test_the_posts_page_shows_the_week_and_the_feeds(editor_client, weekly, web_files, worker):
    add_post(weekly, "a", "This week's post", source="Daily Example")
    add_post(weekly, "b", "Old news", when=datetime(2019, 1, 1, tzinfo=UTC))
    web_files.files["/bad"] = b"not a feed"
    editor_client.post(
        "/admin/lists/weekly/feeds",
        data={"url": web_files.url + "/bad", "csrf_token": editor_client.token},
    )
    feed_id = Feed.query.one().id
    editor_client.post(f"/admin/feeds/{feed_id}/fetch", data={"csrf_token": editor_client.token})

    # A worker fetches it; the page shows the outcome once it has.
    # The page is read after the fetch is seen, not before: else a page of the moment before.
    def fetched():
        done = Feed.query.one().last_fetched_at
        return editor_client.get("/admin/lists/weekly/posts").text if done else None

    page = wait_until(fetched)
    assert "This week&#39;s post" in page and "Daily Example" in page
    assert "Old news" not in page
    assert "not a feed we can read" in page


def test_a_post_can_be_added_by_hand(editor_client, weekly):
    editor_client.post(
        "/admin/lists/weekly/posts",
        data={
            "title": "By hand",
            "url": "https://example.org/hand",
            "source": "Us",
            "excerpt": "Written here",
            "csrf_token": editor_client.token,
        },
    )
    assert Post.query.one().title == "By hand"


def test_compose_reorder_edit_and_preview(editor_client, weekly):
    add_post(weekly, "a", "Alpha", when=datetime.now(UTC).replace(hour=1))
    add_post(weekly, "b", "Beta", when=datetime.now(UTC).replace(hour=2))
    add_post(weekly, "c", "Gamma", when=datetime.now(UTC).replace(hour=3))
    issue = compose(editor_client)
    assert [i.title for i in issue.items] == ["Gamma", "Beta", "Alpha"]
    answer = editor_client.post(
        f"/admin/issues/{issue.id}",
        data={
            "csrf_token": editor_client.token,
            "subject": "This week",
            "preheader": "Three posts",
            "intro": "**Hello** readers",
            "item_post_id": [str(i.post_id) for i in issue.items],
            "item_url": [i.url for i in issue.items],
            "item_source": [i.source for i in issue.items],
            "item_position": ["3", "1", "2"],
            "item_section": ["", "Top", "Top"],
            "item_title": ["Gamma", "Beta, edited", "Alpha"],
            "item_excerpt": ["", "", ""],
            "item_keep": ["0", "1"],
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    edited = db.session.get(Issue, issue.id)
    assert edited.subject == "This week"
    assert [(i.section, i.title) for i in edited.items] == [("Top", "Beta, edited"), ("", "Gamma")]
    html = editor_client.get(f"/admin/issues/{issue.id}/preview.html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert "Hello Reader," in html.text and "<strong>Hello</strong>" in html.text
    text = editor_client.get(f"/admin/issues/{issue.id}/preview.txt").text
    assert "Beta, edited" in text and "@@NL" not in text


def test_compose_with_no_posts_says_so(editor_client, weekly):
    page = editor_client.post(
        "/admin/lists/weekly/compose",
        data={"since": "2001-01-01", "until": "2001-01-08", "csrf_token": editor_client.token},
    )
    assert page.status_code == 422 and "no posts" in page.text
    assert Issue.query.count() == 0


def test_send_a_test_to_me(editor_client, weekly, inbox):
    add_post(weekly, "a", "Alpha")
    issue = compose(editor_client)
    editor_client.post(f"/admin/issues/{issue.id}/test", data={"csrf_token": editor_client.token})
    mail = inbox.wait_for(1, recipient="writer@example.org")[0]
    assert mail.message["Subject"].startswith("[Test] ")


def test_a_test_in_each_language_its_readers_read(editor_client, persian_list, inbox):
    """Readers get the issue in their own language; the test came only in the list's, so an
    editor of a Persian list never saw what its English readers get."""
    add_post(persian_list, "a", "Alpha")
    issue = compose(editor_client, persian_list.slug)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert '<option value="fa" selected>' in page and 'name="language"' in page
    for language in ("fa", "en"):
        form = {"csrf_token": editor_client.token, "language": language}
        editor_client.post(f"/admin/issues/{issue.id}/test", data=form)
    persian, english = inbox.wait_for(2, recipient="writer@example.org")
    assert 'lang="fa"' in persian.part("html") and 'lang="en"' in english.part("html")


def test_schedule_in_the_lists_time_zone_shows_utc_too(editor_client, make_list):
    tehran = make_list(slug="tehran", timezone="Asia/Tehran", language="fa", direction="rtl")
    add_post(tehran, "a", "خبر")
    issue = compose(editor_client, "tehran")
    editor_client.post(
        f"/admin/issues/{issue.id}/schedule",
        data={"send_at": "2030-03-01T09:00", "csrf_token": editor_client.token},
    )
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).send_at == datetime(2030, 3, 1, 5, 30, tzinfo=UTC)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "Fri 1 Mar 2030, 09:00 Asia/Tehran (05:30 UTC)" in page
    # The admin stays English and left to right; the list's Persian text sets its own way.
    assert '<html lang="en" dir="ltr">' in page and '<h1 dir="auto">' in page


def test_send_now_needs_a_confirmation(editor_client, weekly):
    add_post(weekly, "a", "Alpha")
    issue = compose(editor_client)
    editor_client.post(f"/admin/issues/{issue.id}/send", data={"csrf_token": editor_client.token})
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "draft"
    editor_client.post(
        f"/admin/issues/{issue.id}/send", data={"csrf_token": editor_client.token, "confirm": "yes"}
    )
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status in ("scheduled", "sending", "sent")


def test_progress_and_the_failure_report(editor_client, weekly):
    add_post(weekly, "a", "Alpha")
    issue = compose(editor_client)
    reader = confirmed_subscriber(weekly, "gone@example.org", commit=False)
    db.session.commit()
    db.session.add(
        Delivery(
            issue_id=issue.id,
            subscriber_id=reader.id,
            status="failed",
            attempts=1,
            last_error="550 5.1.1 No such user",
        )
    )
    issue.status = "sent"
    db.session.commit()
    progress = editor_client.get(f"/admin/issues/{issue.id}/progress.json").json
    assert progress == {
        "status": "sent",
        "counts": {"total": 1, "sent": 0, "failed": 1, "pending": 0},
    }
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "gone@example.org" in page and "550 5.1.1 No such user" in page


def test_the_live_preview_renders_unsaved_changes_and_stores_nothing(editor_client, weekly):
    add_post(weekly, "a", "Alpha")
    issue = compose(editor_client)
    item = issue.items[0]
    answer = editor_client.post(
        f"/admin/issues/{issue.id}/live-preview",
        data={
            "csrf_token": editor_client.token,
            "subject": "Draft subject",
            "preheader": "",
            "intro": "*Unsaved* intro",
            "item_post_id": [str(item.post_id)],
            "item_url": [item.url],
            "item_source": [item.source],
            "item_position": ["1"],
            "item_section": ["News"],
            "item_title": ["Alpha, retitled"],
            "item_excerpt": [""],
            "item_keep": ["0"],
        },
    )
    assert answer.status_code == 200
    assert "<em>Unsaved</em>" in answer.json["html"] and "Alpha, retitled" in answer.json["text"]
    db.session.expire_all()
    stored = db.session.get(Issue, issue.id)
    assert stored.intro == "" and stored.items[0].title == "Alpha"
    bad = editor_client.post(
        f"/admin/issues/{issue.id}/live-preview",
        data={"csrf_token": editor_client.token, "subject": "Two\nlines"},
    )
    assert bad.status_code == 422 and "one line" in bad.json["error"]


def test_a_removed_post_can_be_ticked_back_in(editor_client, weekly):
    add_post(weekly, "a", "Alpha", when=datetime.now(UTC).replace(hour=1))
    add_post(weekly, "b", "Beta", when=datetime.now(UTC).replace(hour=2))
    issue = compose(editor_client)
    beta, alpha = issue.items
    base = {
        "csrf_token": editor_client.token,
        "subject": issue.subject,
        "preheader": "",
        "intro": "",
    }
    rows = {
        "item_post_id": [str(beta.post_id), str(alpha.post_id)],
        "item_url": [beta.url, alpha.url],
        "item_source": ["", ""],
        "item_position": ["1", "2"],
        "item_section": ["", ""],
        "item_title": ["Beta", "Alpha"],
        "item_excerpt": ["", ""],
    }
    editor_client.post(f"/admin/issues/{issue.id}", data=base | rows | {"item_keep": ["0"]})
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert 'aria-label="Add Alpha"' in page
    editor_client.post(f"/admin/issues/{issue.id}", data=base | rows | {"item_keep": ["0", "1"]})
    db.session.expire_all()
    assert [i.title for i in db.session.get(Issue, issue.id).items] == ["Beta", "Alpha"]


def paused_page(client, mailing_list, reason: str) -> str:
    """The page of an issue of the list that paused itself for this reason."""
    add_post(mailing_list, "a", "Alpha")
    issue = compose(client, mailing_list.slug)
    issue.status = "paused"
    issue.pause_reason = reason
    db.session.commit()
    return client.get(f"/admin/issues/{issue.id}").text


def test_an_issue_that_paused_itself_says_why(editor_client, weekly):
    reason = "Paused after 100 failed sends in a row. Last error: 535 <auth> failed"
    page = paused_page(editor_client, weekly, reason)
    assert "Paused after 100 failed sends in a row" in page
    assert "535 &lt;auth&gt; failed" in page
    assert 'value="resume"' in page or "/resume" in page


def test_a_pause_reason_in_persian_keeps_its_own_direction(editor_client, weekly):
    """A server's words may be Persian or Chinese: set apart from the English around them."""
    reason = "mail.example.ir refuses our mail: 550 ایمیل شما رد شد <spam> 邮件被拒绝"
    page = paused_page(editor_client, weekly, reason)
    said = "550 ایمیل شما رد شد &lt;spam&gt; 邮件被拒绝"
    assert f'<bdi dir="auto">mail.example.ir refuses our mail: {said}</bdi> Fix the cause' in page


def test_the_default_subject_names_today_as_the_list_s_readers_count_days(
    editor_client, persian_list
):
    """The compose form's range ends tomorrow (its last day today, in Tehran): the subject
    names today in Persian and the Solar Hijri calendar, not tomorrow in English."""
    from newsletter.i18n import format_date

    add_post(persian_list, "a", "خبر")
    issue = compose(editor_client, persian_list.slug)
    today = datetime.now(ZoneInfo("Asia/Tehran")).date()
    assert (
        issue.subject
        == f"ایران اینترلینک — Weekly گزیدهٔ هفتگی – {format_date(today, 'fa', 'persian')}"
    )


def test_compose_from_the_posts_page_keeps_the_range_shown(editor_client, weekly):
    """The posts page's "to" includes its day; compose's "until" leaves it out: the link
    carries the day after, and the compose form shows the same posts' range."""
    page = editor_client.get("/admin/lists/weekly/posts?since=2026-11-01&until=2026-11-07").text
    link = re.search(r'class="button" href="(/admin/lists/weekly/compose[^"]*)"', page).group(1)
    assert link == "/admin/lists/weekly/compose?since=2026-11-01&amp;until=2026-11-08"
    form = editor_client.get(link.replace("&amp;", "&")).text
    assert 'name="since" type="date" value="2026-11-01"' in form
    assert 'name="until" type="date" value="2026-11-08"' in form
