"""The pages as Chromium reads them and as a keyboard walks them, in English and Persian:
axe-core's WCAG 2.0 to 2.2 A and AA rules on the public pages in the states a reader meets (a
refused address, saved preferences, an expired link, a missing page), held to heading order
and one main landmark too; the fields' and focus ring's contrast; the admin at 320 px."""

from __future__ import annotations

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from builders import confirmed_subscriber, draft, sectioned_issue, sign_in_page
from playwright.sync_api import expect

from newsletter import links
from newsletter.models import Subscriber
from newsletter.subscriptions import service

pytestmark = pytest.mark.slow

WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}
PUBLIC = WCAG | {
    "rules": {"heading-order": {"enabled": True}, "landmark-one-main": {"enabled": True}}
}


def violations(page, options: dict = PUBLIC) -> list[str]:
    """Each rule axe finds broken on the page, with the first elements that break it."""
    found = Axe().run(page, options=options).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}" for v in found]


def refuse_an_address(page, url: str) -> None:
    """Type a bad address and press Enter, as a keyboard does."""
    page.goto(url)
    page.focus("#email")
    page.keyboard.type("a@b")
    page.keyboard.press("Enter")
    page.wait_for_selector("p.error")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_refused_address_takes_the_keyboard_s_focus(
    page, live_server, weekly, persian_list, language
):
    slug = "interlink" if language == "fa" else "weekly"
    refuse_an_address(page, f"{live_server.url}/subscribe/{slug}")
    expect(page.locator("#email")).to_be_focused()  # autofocus lands once the page is drawn
    described = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    assert page.locator(f"#{described}").inner_text().strip()
    # What was typed is there to mend, from the keyboard alone.
    page.keyboard.press("End")
    page.keyboard.type(".example.org")
    page.keyboard.press("Enter")
    page.wait_for_selector("form", state="detached")
    assert Subscriber.query.one().email == "a@b.example.org"


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two computed colours ("rgb(…)")."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Each shown field's border and the colour around it (its nearest ancestor's background).
BORDERS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')]
  .filter(e => e.offsetParent !== null)
  .map(e => {
    let around = e.parentElement, colour = 'rgba(0, 0, 0, 0)';
    while (around && (colour = getComputedStyle(around).backgroundColor) === 'rgba(0, 0, 0, 0)')
      around = around.parentElement;
    const border = getComputedStyle(e).borderTopColor;
    return [e.id || e.name, border, around ? colour : 'rgb(255, 255, 255)'];
  })"""


def on_each(page, base: str, paths, measure) -> dict:
    """What `measure` finds on each page, by path."""
    found = {}
    for path in paths:
        page.goto(base + path)
        found[path] = measure(page)
    return found


def faint_fields(page) -> dict[str, float]:
    fields = page.evaluate(BORDERS)
    assert fields
    ratios = {name: round(contrast(border, around), 2) for name, border, around in fields}
    return {name: ratio for name, ratio in ratios.items() if ratio < 3}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_field_s_border_stands_out_from_the_page(
    page, live_server, weekly, persian_list, language
):
    mailing_list = persian_list if language == "fa" else weekly
    reader = confirmed_subscriber(mailing_list, "reader@example.org", "Sara")
    paths = (
        f"/subscribe/{mailing_list.slug}",
        "/preferences/" + links.make(links.PREFERENCES, reader.id, mailing_list.id),
        "/unsubscribe/" + links.make(links.UNSUBSCRIBE, reader.id, mailing_list.id),
    )
    faint = on_each(page, live_server.url, paths, faint_fields)
    assert faint == dict.fromkeys(faint, {})


def test_the_admin_s_fields_stand_out(page, live_server, weekly):
    issue = draft(weekly)
    sign_in_page(page, live_server.url)
    paths = (f"/admin/issues/{issue.id}", "/admin/lists/weekly/edit", "/admin/subscribers")
    faint = on_each(page, live_server.url, paths, faint_fields)
    assert faint == dict.fromkeys(faint, {})


def test_the_admin_s_focus_ring_stands_out_from_the_panel_around_it(page, live_server, weekly):
    issue = draft(weekly)
    sign_in_page(page, live_server.url)
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    page.focus("form[action$='/send'] input[name=confirm]")
    page.keyboard.press("Tab")
    expect(page.locator("button:has-text('Send now')")).to_be_focused()  # in the panel
    ring, panel = page.evaluate(
        """() => [getComputedStyle(document.activeElement).outlineColor,
                  getComputedStyle(document.activeElement.closest('.actions')).backgroundColor]"""
    )
    assert contrast(ring, panel) >= 3


def test_the_admin_reflows_on_a_320_px_screen(page, live_server, weekly):
    """At 320 px "Sign out" was cut off: the page was 348 px wide."""
    width = 320
    issue = draft(weekly)
    sign_in_page(page, live_server.url)
    page.set_viewport_size({"width": width, "height": 800})
    paths = ("/admin/", "/admin/lists", f"/admin/issues/{issue.id}", "/admin/subscribers")
    wide = on_each(
        page,
        live_server.url,
        paths,
        lambda p: p.evaluate("document.documentElement.scrollWidth") - width,
    )
    assert wide == dict.fromkeys(wide, 0)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_public_pages_break_no_wcag_rule(
    page, live_server, app, weekly, persian_list, language
):
    mailing_list = persian_list if language == "fa" else weekly
    page.set_extra_http_headers({"Accept-Language": language})  # the 404's language
    reader = confirmed_subscriber(mailing_list, "reader@example.org", "Sara")
    pending = service.subscribe(mailing_list, "new@example.org", "")
    sectioned_issue(mailing_list, ("Top stories", "Top stories", "More"))
    slug, base = mailing_list.slug, live_server.url
    confirm = links.make(links.CONFIRM, pending.subscriber_id, pending.list_id, pending.version)
    preferences = "/preferences/" + links.make(links.PREFERENCES, reader.id, mailing_list.id)
    leave = "/unsubscribe/" + links.make(links.UNSUBSCRIBE, reader.id, mailing_list.id)
    paths = [f"/subscribe/{slug}", f"/confirm/{confirm}", preferences]
    found = on_each(page, base, paths, violations)
    page.click("button[type=submit]")
    page.wait_for_selector("#form-saved")
    found["preferences saved"] = violations(page)
    refuse_an_address(page, f"{base}/subscribe/{slug}")
    found["subscribe refused"] = violations(page)
    paths = [leave, f"/archive/{slug}", f"/archive/{slug}/1", "/nowhere"]
    found |= on_each(page, base, paths, violations)
    app.config["PREFERENCES_MAX_AGE"] = -1
    found["expired link"] = on_each(page, base, [preferences], violations)[preferences]
    assert found == dict.fromkeys(found, []), json.dumps(found, ensure_ascii=False, indent=1)


def test_the_admin_s_pages_break_no_wcag_rule(page, live_server, weekly, persian_list):
    reader = confirmed_subscriber(persian_list, "reader@example.org", "سارا")
    issue = draft(weekly)
    base = live_server.url
    page.goto(base + "/admin/login")
    found = {"sign in": violations(page, WCAG)}
    sign_in_page(page, base)
    paths = [
        "/admin/",
        "/admin/lists",
        "/admin/lists/new",
        "/admin/lists/interlink/edit",
        "/admin/lists/weekly/posts",
        "/admin/lists/weekly/compose",
        "/admin/lists/weekly/import",
        "/admin/issues",
        f"/admin/issues/{issue.id}",
        "/admin/subscribers",
        f"/admin/subscribers/{reader.id}",
        "/admin/held",
        "/admin/users",
    ]
    found |= on_each(page, base, paths, lambda p: violations(p, WCAG))
    page.goto(base + "/admin/lists/new")
    page.click("main button:has-text('Save')")  # every field missing
    found["a new list refused"] = violations(page, WCAG)
    page.goto(f"{base}/admin/issues/{issue.id}")
    page.click("button:has-text('Cancel the issue')")
    found["the dialog before cancelling"] = violations(page, WCAG)
    assert found == dict.fromkeys(found, []), json.dumps(found, ensure_ascii=False, indent=1)


def test_a_keyboard_skips_the_admin_s_bars_and_names_the_dialog(page, live_server, weekly):
    issue = draft(weekly)
    sign_in_page(page, live_server.url)
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    assert skip.is_visible()  # shown once focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first stop after the bars is in the main landmark
    assert page.evaluate("!!document.activeElement.closest('main')")
    page.click("button:has-text('Cancel the issue')")
    expect(page.get_by_role("dialog", name=re.compile(r"^Cancel issue #1\?"))).to_be_visible()


def test_the_growth_chart_s_lines_differ_in_more_than_colour(page, live_server, weekly):
    service.subscribe(weekly, "reader@example.org", preconfirmed=True)  # a join this week
    sign_in_page(page, live_server.url)
    page.goto(live_server.url + "/admin/")
    lines = page.evaluate(
        """() => [...document.querySelectorAll('.chart g[class^=series-]')].map(g => [
             g.getAttribute('class'),
             getComputedStyle(g.querySelector('path')).strokeDasharray,
             getComputedStyle(document.querySelector('.key.' + g.getAttribute('class')),
                              '::before').borderTopStyle])"""
    )
    assert len(lines) == 3
    assert len({dashes for _name, dashes, _key in lines}) == 3, lines
    assert len({key for _name, _dashes, key in lines}) == 3, lines
