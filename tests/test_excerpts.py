"""An excerpt keeps its editor's line breaks: saved, previewed, archived and mailed, as
paragraphs and <br> in HTML (escaped) and as lines in the plain text."""

import os

import pytest
from builders import add_subscribers, draft, start_sending, user
from playwright.sync_api import expect

from newsletter.extensions import db
from newsletter.models import Issue, Post
from newsletter.posts.excerpts import clean_excerpt, excerpt_from_html, excerpt_html
from newsletter.sending import loop

EXCERPT = "First line of it.\nSecond <line> & more.\n\nیک پاراگراف فارسی.\nخط دوم"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


def form(issue: Issue, excerpt: str, token: str) -> dict:
    item = issue.items[0]
    return {
        "subject": issue.subject,
        "preheader": "",
        "intro": "",
        "item_post_id": str(item.post_id),
        "item_position": "1",
        "item_section": "",
        "item_title": item.title,
        "item_excerpt": excerpt,
        "item_url": item.url,
        "item_source": item.source,
        "item_keep": "0",
        "csrf_token": token,
    }


def saved_excerpt(issue_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Issue, issue_id).items[0].excerpt


def test_cleaning_keeps_lines_and_paragraphs_and_drops_the_rest():
    raw = "  one   line <b>bold</b>\r\ntwo\x07\tthree\r\n\r\n\r\n\r\nfour\u2028five\u2029six  "
    assert clean_excerpt(raw, 600) == "one line <b>bold</b>\ntwo three\n\nfour\nfive\n\nsix"
    assert clean_excerpt("word " * 10, 12) == "word word…"
    given = "<p>one <b>bold</b>\r\ntwo &amp; three</p>"
    assert excerpt_from_html(given, 600) == "one bold\ntwo & three"


def test_the_html_is_paragraphs_and_breaks_each_finding_its_direction():
    assert excerpt_html("a <b>\nb\n\nc") == (
        '<p class="excerpt" dir="auto">a &lt;b&gt;<br>b</p><p class="excerpt" dir="auto">c</p>'
    )
    assert excerpt_html("") == ""


@pytest.mark.slow
def test_the_issue_editor_keeps_line_breaks_through_preview_and_the_email(
    editor_client, weekly, inbox
):
    issue = draft(weekly)
    typed = EXCERPT.replace("\n", "\r\n")  # as a browser sends a textarea
    answer = editor_client.post(
        f"/admin/issues/{issue.id}", data=form(issue, typed, editor_client.token)
    )
    assert answer.status_code == 302
    assert saved_excerpt(issue.id) == EXCERPT

    html = editor_client.get(f"/admin/issues/{issue.id}/preview.html").text
    assert "First line of it.<br>Second &lt;line&gt; &amp; more.</p>" in html
    assert "یک پاراگراف فارسی.<br>خط دوم</p>" in html
    assert html.count('class="excerpt" dir="auto"') == 2
    text = editor_client.get(f"/admin/issues/{issue.id}/preview.txt").text
    assert "First line of it.\nSecond <line> & more.\n\nیک پاراگراف فارسی.\nخط دوم" in text.replace(
        "  \n", "\n"
    )

    add_subscribers(weekly, 1)
    start_sending(db.session.get(Issue, issue.id))
    loop.send_batch(issue.id)
    mail = inbox.wait_for(1, recipient="reader0@example.org")[0]
    assert "First line of it.<br>Second &lt;line&gt; &amp; more." in mail.part("html")
    plain = mail.part("plain").replace("\r\n", "\n").replace("  \n", "\n")
    assert "First line of it.\nSecond <line> & more.\n\nیک پاراگراف فارسی.\nخط دوم" in plain
    archive = editor_client.get(f"/archive/weekly/{issue.number}").text  # once sent
    assert "یک پاراگراف فارسی.<br>خط دوم" in archive


def test_a_post_added_by_hand_keeps_its_line_breaks(editor_client, weekly):
    editor_client.post(
        "/admin/lists/weekly/posts",
        data={
            "title": "By hand",
            "url": "https://example.org/by-hand",
            "excerpt": "one\r\ntwo\r\n\r\nthree",
            "csrf_token": editor_client.token,
        },
    )
    assert db.session.scalar(db.select(Post.excerpt)) == "one\ntwo\n\nthree"


def test_an_item_given_by_the_api_keeps_its_line_breaks(api, weekly):
    issue = draft(weekly)
    answer = api.patch(
        f"/issues/{issue.id}",
        json={"items": [{"title": "Own", "url": "https://example.org/own", "excerpt": "a\nb"}]},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["items"][0]["excerpt"] == "a\nb"


@pytest.mark.slow
def test_an_editor_types_paragraphs_and_the_preview_shows_them(page, live_server, weekly):

    user("writer@example.org")
    issue = draft(weekly)
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", "writer@example.org")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    page.locator("textarea[name=item_excerpt]").first.fill(EXCERPT)
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    expect(page.locator("textarea[name=item_excerpt]").first).to_have_value(EXCERPT)
    preview = page.frame_locator("iframe.desktop")
    expect(preview.locator("p.excerpt")).to_have_count(2)
    expect(preview.locator("p.excerpt").nth(1)).to_have_text("یک پاراگراف فارسی.خط دوم")
    box = preview.locator("p.excerpt").nth(1).bounding_box()
    assert box["height"] > 30  # two lines, not one
    expect(page.locator("#text-preview")).to_contain_text("Second <line> & more.")
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.locator("iframe.desktop").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(ARTIFACTS, "admin-excerpt-paragraphs.png"), full_page=True)
