"""Pages and emails as a phone and a desktop show them (Chromium): none wider than its
screen, in English and in Persian. A right-to-left page scrolls into what is off screen to
its left: the subscribe form's honeypot, moved left:-10000px, made the Persian form
11,280 px wide. A long address in an email or a long name in the admin widens nothing."""

from __future__ import annotations

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
