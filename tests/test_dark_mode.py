"""Dark mode in the emails: Chromium with the dark preference gets dark colours from the
<style> premailer leaves in the head; with the light one the inlined colours are unchanged."""

import os
from datetime import UTC, datetime

import pytest
from builders import SINCE, UNTIL

from newsletter import mailer
from newsletter.digest import render
from newsletter.digest.compose import compose_issue, edit_issue
from newsletter.extensions import db
from newsletter.models import Post, Subscriber

pytestmark = pytest.mark.slow

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")

# (selector, CSS property) -> colour, as getComputedStyle gives it; the items, in sections,
# are h3.
LIGHT = {
    ("body", "background-color"): "rgb(243, 244, 246)",
    ("body", "color"): "rgb(29, 35, 48)",
    (".container", "background-color"): "rgb(255, 255, 255)",
    (".masthead h1", "color"): "rgb(29, 35, 48)",
    (".item h3 a", "color"): "rgb(31, 95, 191)",
    (".meta", "color"): "rgb(91, 100, 117)",
    (".footer", "color"): "rgb(91, 100, 117)",
}
DARK = {
    ("body", "background-color"): "rgb(20, 22, 27)",
    ("body", "color"): "rgb(228, 231, 236)",
    (".container", "background-color"): "rgb(30, 33, 41)",
    (".masthead h1", "color"): "rgb(241, 243, 246)",
    (".item h3 a", "color"): "rgb(138, 184, 255)",
    (".meta", "color"): "rgb(167, 175, 189)",
    (".footer", "color"): "rgb(167, 175, 189)",
}


def digest_html(mailing_list) -> str:
    """A digest as a reader gets it: sections, an intro with a link, CSS inlined."""
    sections = {"Rivers rise in the north": "News", "Why the bridge closed": "Analysis"}
    for day, (guid, title) in enumerate(zip("ab", sections, strict=True), start=2):
        db.session.add(
            Post(
                list_id=mailing_list.id,
                guid=guid,
                url=f"https://example.org/{guid}",
                title=title,
                source="Example News",
                excerpt="A short excerpt of the post, two lines or so in the email.",
                published_at=datetime(2019, 8, day, tzinfo=UTC),
            )
        )
    db.session.commit()
    issue = compose_issue(mailing_list, SINCE, UNTIL)
    items = [{"post_id": i.post_id, "section": sections[i.title]} for i in issue.items]
    intro = "This week, **two** stories and [our appeal](https://example.org)."
    edit_issue(issue, {"intro": intro, "items": items})
    html, _text = render.preview(issue)
    return html


def colours(page, expected: dict) -> dict:
    return {
        (selector, name): page.eval_on_selector(
            selector, "(e, name) => getComputedStyle(e).getPropertyValue(name)", name
        )
        for selector, name in expected
    }


def shoot(browser, html: str, scheme: str, name: str):
    context = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_content(html)
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)
    return context, page


def test_the_dark_preference_darkens_the_digest_and_light_is_unchanged(app, weekly, browser):
    html = digest_html(weekly)
    light, light_page = shoot(browser, html, "light", "email-digest-light.png")
    dark, dark_page = shoot(browser, html, "dark", "email-digest-dark.png")
    try:
        assert light_page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is False
        assert dark_page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is True
        assert colours(light_page, LIGHT) == LIGHT
        assert colours(dark_page, DARK) == DARK
    finally:
        light.close()
        dark.close()


def test_the_confirm_notice_keeps_a_readable_button_in_the_dark(app, weekly, browser):
    reader = Subscriber(email="ana@example.org", name="Ana")
    html, _text = mailer.render_email(
        "confirm",
        mailing_list=weekly,
        subscriber=reader,
        subject="Please confirm",
        confirm_url="https://newsletter.test/confirm/x",
        unsubscribe_url="https://newsletter.test/unsubscribe/x",
        preferences_url="https://newsletter.test/preferences/x",
    )
    dark, page = shoot(browser, html, "dark", "email-confirm-dark.png")
    try:
        expected = {
            (".button", "color"): "rgb(255, 255, 255)",
            (".button", "background-color"): "rgb(47, 111, 214)",
            ("body", "background-color"): DARK[("body", "background-color")],
        }
        assert colours(page, expected) == expected
    finally:
        dark.close()


def test_premailer_keeps_the_dark_styles_in_the_head_not_inline(app, weekly):
    html = digest_html(weekly)
    head, body = html.split("</head>", 1)
    assert '<meta name="color-scheme" content="light dark">' in head
    assert "@media (prefers-color-scheme: dark)" in head
    assert "#14161b" not in body  # no dark colour was inlined
