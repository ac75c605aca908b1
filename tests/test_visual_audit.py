"""What a designer saw in screenshots of the pages and emails, at 1280 and 375 px, in English
and Persian, measured in Chromium so it stays seen: a button beside the end of a sentence, menus
smaller than the fields around them, two sentences run together, a link against the phone's
edge, an empty panel, chart labels cut off or too small to read, columns squeezed to a letter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from builders import add_subscribers, confirmed_subscriber, draft, sent_issue, sign_in_page

from newsletter import links
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, IssueLink, LinkClick

pytestmark = pytest.mark.slow

PHONE, DESKTOP = 375, 1280
ACCENT = "rgb(31, 95, 191)"


def at(page, width: int, url: str) -> None:
    page.set_viewport_size({"width": width, "height": 812})
    page.goto(url)


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def preferences_of(mailing_list) -> str:
    reader = confirmed_subscriber(mailing_list, "reader@example.org", "Sara")
    return "/preferences/" + links.make(links.PREFERENCES, reader.id, mailing_list.id)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_preferences_save_button_stands_below_the_last_choice_on_a_phone(
    page, live_server, weekly, persian_list, language
):
    """At 375 px the tracking choice's label wrapped and "Save" stood on its last line, beside
    "me the links as they are"."""
    mailing_list = persian_list if language == "fa" else weekly
    at(page, PHONE, live_server.url + preferences_of(mailing_list))
    choice = box(page, "label:has(input[name=no_tracking])")
    save = box(page, "main form button[type=submit]")
    assert save["y"] >= choice["y"] + choice["height"]


def test_the_reader_s_menus_look_like_the_fields_beside_them(page, live_server, weekly):
    """The preferences page's Language and Time zone menus were the browser's own: 13 px text
    in a 20 px box under a 16 px field 46 px tall."""
    at(page, PHONE, live_server.url + preferences_of(weekly))
    look = """e => { const s = getComputedStyle(e);
        return [s.fontSize, s.borderTopColor, s.borderTopLeftRadius, e.offsetHeight >= 40]; }"""
    field = page.locator("#name").evaluate(look)
    menus = {name: page.locator(f"#{name}").evaluate(look) for name in ("locale", "time_zone")}
    assert menus == dict.fromkeys(menus, field)


@pytest.mark.parametrize("slug", ["weekly", "interlink"])
def test_the_digest_footer_keeps_a_space_between_its_sentence_and_links(
    page, weekly, persian_list, inbox, slug
):
    """The footer read "You receive Weekly Digest because you subscribed to it.View in your
    browser": a comment's whitespace control ate the space."""
    sent_issue(persian_list if slug == "interlink" else weekly, inbox, readers=1)
    page.set_content(inbox.messages[0].part("html"))
    words = page.locator(".footer p").first.inner_text()
    assert not re.search(r"[.!?](?=\w)", words), words


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_archive_s_way_back_keeps_off_the_phone_s_edge_in_the_site_s_colour(
    page, live_server, weekly, persian_list, inbox, language
):
    """The link to all issues above an archived one touched the screen's edge at 375 px, in
    the browser's own blue."""
    mailing_list = persian_list if language == "fa" else weekly
    sent_issue(mailing_list, inbox, readers=1)
    at(page, PHONE, f"{live_server.url}/archive/{mailing_list.slug}/1")
    back = box(page, ".back a")
    assert back["x"] >= 12 and back["x"] + back["width"] <= PHONE - 12
    page.emulate_media(color_scheme="light")
    assert page.locator(".back a").evaluate("e => getComputedStyle(e).color") == ACCENT


def test_a_sent_issue_shows_no_empty_panel_of_moves(page, live_server, weekly, inbox):
    """Once sent, nothing can be done to an issue, and the moves' panel stood empty: a grey
    bordered box under the figures."""
    issue = sent_issue(weekly, inbox, readers=1)
    sign_in_page(page, live_server.url)
    at(page, DESKTOP, f"{live_server.url}/admin/issues/{issue.id}")
    empty = page.evaluate(
        "[...document.querySelectorAll('.actions')].filter(e => !e.children.length).length"
    )
    assert empty == 0


def charted_issue(mailing_list) -> Issue:
    """A sent issue with bounces at two domains, one long, and clicks over five hours."""
    readers = add_subscribers(mailing_list, 3)
    started = datetime.now(UTC) - timedelta(hours=6)
    issue = Issue(list_id=mailing_list.id, number=1, subject="Sent", status="sent")
    issue.started_at = started
    db.session.add(issue)
    db.session.flush()
    domains = ["gmail.com", "gmail.com", "a-very-long-receiving-domain-name.example.com"]
    for reader, domain in zip(readers, domains, strict=True):
        delivery = Delivery(issue_id=issue.id, subscriber_id=reader.id, status="sent")
        db.session.add(delivery)
        db.session.flush()
        db.session.add(
            Bounce(subscriber_id=reader.id, delivery_id=delivery.id, kind="hard",
                   reason="no_such_user", domain=domain)
        )  # fmt: skip
    link = IssueLink(issue_id=issue.id, position=0, url="https://example.org/report")
    db.session.add(link)
    db.session.flush()
    for hours in (0, 0, 1, 3, 5):
        db.session.add(LinkClick(link_id=link.id, clicked_at=started + timedelta(hours=hours)))
    db.session.commit()
    return issue


# Each label of each chart: how far it reaches past its drawing, and its size on screen.
LABELS = """() => [...document.querySelectorAll('svg.chart-svg text')].map(t => {
    const svg = t.closest('svg'), outer = svg.getBoundingClientRect();
    const r = t.getBoundingClientRect();
    const past = Math.max(outer.left - r.left, r.right - outer.right, 0);
    const size = parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a;
    return [t.textContent, Math.round(past), Math.round(size * 10) / 10];
})"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_issue_s_charts_keep_their_labels_whole_and_readable(page, live_server, weekly, width):
    """On a phone the clicks chart's last hour ("7 Dec 23:00") ran past the drawing and the
     screen's edge, and the bar charts, drawn 480 wide and shrunk to 341, had 6 px labels
    ."""
    issue = charted_issue(weekly)
    sign_in_page(page, live_server.url)
    at(page, width, f"{live_server.url}/admin/issues/{issue.id}")
    labels = page.evaluate(LABELS)
    assert len(labels) > 10
    assert [label for label in labels if label[1] > 1 or label[2] < 8.5] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_long_name_keeps_its_column_readable_on_a_phone(page, live_server, weekly):
    """A name of 200 letters broke one letter a line in a column squeezed to a letter's
     width: at 375 px its row was thousands of pixels tall, the address beside a blank
    ."""
    confirmed_subscriber(weekly, "long@example.org", "x" * 200)
    confirmed_subscriber(weekly, "longer@example.org", "ن" * 200)
    sign_in_page(page, live_server.url)
    at(page, PHONE, live_server.url + "/admin/subscribers")
    heights = page.evaluate("[...document.querySelectorAll('tbody tr')].map(r => r.offsetHeight)")
    assert max(heights) < 400, heights


def test_the_issue_editor_s_items_leave_room_to_write_on_a_phone(page, live_server, weekly):
    """At 375 px the items' title fields and excerpts were squeezed to 75 px, three letters
    of a title in sight and excerpts broken mid-word; the
    table scrolls sideways instead, as wide tables do."""
    issue = draft(weekly)
    sign_in_page(page, live_server.url)
    at(page, PHONE, f"{live_server.url}/admin/issues/{issue.id}")
    widths = page.evaluate(
        "[...document.querySelectorAll('.items [name=item_title], .items [name=item_excerpt]')]"
        ".map(e => e.offsetWidth)"
    )
    assert widths and min(widths) >= 190, widths
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_the_digest_ends_its_items_with_one_rule_not_two(page, weekly, inbox):
    """The last item's rule and the footer's, 20 px apart, drew a double line under every
    digest and archived issue."""
    sent_issue(weekly, inbox, readers=1)
    page.set_content(inbox.messages[0].part("html"))
    last = page.locator(".item").last.evaluate("e => getComputedStyle(e).borderBottomWidth")
    footer = page.locator(".footer").evaluate("e => getComputedStyle(e).borderTopWidth")
    assert "0px" in (last, footer), (last, footer)
