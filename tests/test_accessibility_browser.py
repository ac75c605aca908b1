"""The pages as Chromium reads them and as a keyboard walks them, in English and Persian."""

from __future__ import annotations

import pytest

from newsletter.models import Subscriber

pytestmark = pytest.mark.slow


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
    assert page.evaluate("document.activeElement.id") == "email"
    described = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    assert page.locator(f"#{described}").inner_text().strip()
    # What was typed is there to mend, from the keyboard alone.
    page.keyboard.press("End")
    page.keyboard.type(".example.org")
    page.keyboard.press("Enter")
    page.wait_for_selector("form", state="detached")
    assert Subscriber.query.one().email == "a@b.example.org"
