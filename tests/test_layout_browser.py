"""Pages and emails as a phone and a desktop show them (Chromium): none wider than its
screen, in English and in Persian. A right-to-left page scrolls into what is off screen to
its left: the subscribe form's honeypot, moved left:-10000px, made the Persian form
11,280 px wide. A long address in an email or a long name in the admin widens nothing."""

from __future__ import annotations

import json

import pytest
from builders import PASSWORD, confirmed_subscriber, submit, user

from newsletter import links

pytestmark = pytest.mark.slow

PHONE, DESKTOP = 390, 1280


def overflow(page, url: str, width: int) -> int:
    """How many pixels the page at `url` is wider than a screen `width` wide."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(url)
    return page.evaluate("document.documentElement.scrollWidth") - width


# The innermost elements past the screen's edge, for a failure's message.
WIDEST = """w => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > w + 1))
  .slice(0, 5)
  .map(e => `${e.parentElement.tagName}>${e.tagName}.${e.className} ${e.textContent.slice(0, 40)}`)
"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_reader_s_pages_fit_the_screen(
    page, live_server, weekly, persian_list, language, width
):
    mailing_list = persian_list if language == "fa" else weekly
    reader = confirmed_subscriber(mailing_list, "reader@example.org", "ن" * 200)
    paths = [
        f"/subscribe/{mailing_list.slug}",
        f"/archive/{mailing_list.slug}",
        "/preferences/" + links.make("preferences", reader.id, mailing_list.id),
        "/unsubscribe/" + links.make("unsubscribe", reader.id, mailing_list.id),
    ]
    wide = {path: overflow(page, live_server.url + path, width) for path in paths}
    assert wide == dict.fromkeys(paths, 0)


@pytest.mark.parametrize("slug", ["weekly", "interlink"])
def test_the_confirmation_email_fits_a_phone(
    page, client, weekly, persian_list, inbox, worker, slug
):
    address = "a.very.long.address.of.a.reader.of.the.weekly.digest@example.org"
    submit(client, address, slug=slug)
    html = inbox.wait_for(1, recipient=address)[0].part("html")
    page.set_viewport_size({"width": 375, "height": 800})
    page.set_content(html)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_long_name_does_not_push_the_admin_s_columns_out_of_sight(page, live_server, weekly):
    user("admin@example.com", "admin")  # the admin's nav, whose "Sign out" went below it
    confirmed_subscriber(weekly, "long@example.org", "ن" * 200)
    confirmed_subscriber(weekly, "longer@example.org", "x" * 200)
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/admin/subscribers")
    table = page.locator("table").first
    container = page.locator("main")
    assert table.bounding_box()["width"] <= container.bounding_box()["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP
    # The other columns keep their words whole ("active" broke as "act ive").
    status = page.locator("td .status").first
    assert status.bounding_box()["height"] < 2 * float(
        status.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20")
    )
    # Who is signed in and "Sign out" on one line: the button went to a line of its own.
    who = page.locator("nav.admin .who").bounding_box()
    button = page.locator("nav.admin button").bounding_box()
    assert abs((who["y"] + who["height"] / 2) - (button["y"] + button["height"] / 2)) < 8


def test_the_admin_fits_a_phone_and_a_wide_file_s_columns_scroll_in_their_table(
    page, live_server, weekly, persian_list
):
    """At 390 px the lists page was 842 px wide, the issue page 673, a subscriber's 454; a
    Mailchimp file's 23 columns made the mapping page 6,311 px wide even at 1280."""
    from builders import draft

    user("admin@example.com", "admin")
    reader = confirmed_subscriber(weekly, "reader.with.a.long.address@example.org", "ن" * 60)
    issue = draft(weekly)
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    heading = ",".join(f"Column number {n} of Mailchimp" for n in range(23))
    upload = page.request.post(
        live_server.url + "/admin/lists/weekly/import",
        multipart={
            "csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
            "file": {
                "name": "audience.csv",
                "mimeType": "text/csv",
                "buffer": f"Email Address,{heading}\r\na@example.org{',x' * 23}\r\n".encode(),
            },
        },
        max_redirects=0,
    )
    mapping = upload.headers["location"]
    assert overflow(page, live_server.url + mapping, DESKTOP) <= 0
    paths = [
        "/admin/",
        "/admin/lists",
        "/admin/issues",
        f"/admin/issues/{issue.id}",
        "/admin/subscribers",
        f"/admin/subscribers/{reader.id}",
        "/admin/lists/weekly/edit",
        "/admin/lists/weekly/posts",
        "/admin/held",
        "/admin/users",
        mapping,
    ]
    wide = {}
    for path in paths:
        if overflow(page, live_server.url + path, PHONE) > 0:
            wide[path] = page.evaluate(WIDEST, PHONE)
    assert wide == {}, json.dumps(wide, ensure_ascii=False, indent=1)
