"""The admin in Chromium: the bar, ordering an issue's items by keyboard and by dragging, the
dialog before cancelling, and the error page. Screenshots go to test-artifacts/."""

import os
import re

import pytest
from builders import three_posts
from playwright.sync_api import expect

from newsletter import accounts
from newsletter.extensions import db
from newsletter.models import Issue, Subscriber, Subscription

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


def shot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"admin-{name}.png"), full_page=True)


@pytest.fixture
def signed_in(page, live_server, weekly):
    accounts.create_user("writer@example.org", PASSWORD, "editor")
    page.goto(live_server.url + "/admin/login")
    shot(page, "sign-in")
    page.fill("#email", "writer@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    return page


def open_draft(page, mailing_list) -> None:
    """A draft of three posts, open in the editor."""
    three_posts(mailing_list, "About {title}: " + "a long excerpt that wraps. " * 6)
    page.click("text=Compose")
    page.click("button:has-text('Compose draft')")
    page.wait_for_selector("h2:has-text('Edit')")


def titles(page) -> list[str]:
    fields = page.locator("input[name=item_title]")
    return [fields.nth(i).input_value() for i in range(fields.count())]


def saved_titles() -> list[str]:
    db.session.expire_all()
    return [item.title for item in db.session.scalar(db.select(Issue)).items]


def test_items_move_by_keyboard_buttons_and_dragging(signed_in, weekly):
    page = signed_in
    shot(page, "dashboard")
    open_draft(page, weekly)
    expect(page.locator("nav.admin a.active")).to_have_text("Issues")
    expect(page.locator("nav.list-bar .list-name")).to_have_text("Weekly Digest")
    expect(page.locator("input[name=item_position]").first).to_be_hidden()  # JS orders
    assert titles(page) == ["Gamma", "Beta", "Alpha"]

    page.locator("button.handle").nth(2).focus()  # Alpha's
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert titles(page) == ["Alpha", "Gamma", "Beta"]
    expect(page.locator("button.handle").first).to_be_focused()
    expect(page.locator("#items-status")).to_have_text("Alpha: position 1 of 3")
    page.get_by_role("button", name="Move Gamma down").click()
    assert titles(page) == ["Alpha", "Beta", "Gamma"]
    shot(page, "issue-editor-moved")

    page.locator("button.handle").nth(2).drag_to(page.locator("table.items tbody tr").first)
    assert titles(page) == ["Gamma", "Alpha", "Beta"]
    positions = page.locator("input[name=item_position]")
    assert [positions.nth(i).input_value() for i in range(3)] == ["1", "2", "3"]
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    assert saved_titles() == ["Gamma", "Alpha", "Beta"]
    shot(page, "issue-editor-saved")
    page.click("nav.list-bar >> text=Posts and feeds")
    expect(page.locator("nav.list-bar a.active")).to_have_text("Posts and feeds")
    expect(page.locator("h1 .count")).to_have_text("3 posts")
    shot(page, "posts")
    page.click("nav.admin >> text=Lists")
    expect(page.locator("nav.admin a.active")).to_have_text("Lists")
    shot(page, "lists")


def test_an_unticked_post_moved_up_is_still_added(signed_in, weekly):
    """The keep boxes follow their rows: the server reads them by position."""
    page = signed_in
    open_draft(page, weekly)
    page.locator("input[name=item_keep]").nth(0).uncheck()  # Gamma out
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    assert titles(page) == ["Beta", "Alpha", "Gamma"]  # Gamma unticked, last
    page.get_by_role("button", name="Move Gamma up").click()
    page.get_by_role("button", name="Move Gamma up").click()
    page.locator("input[name=item_keep]").nth(0).check()
    page.locator("input[name=item_keep]").nth(2).uncheck()  # Alpha out
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    assert saved_titles() == ["Gamma", "Beta"]


def test_cancelling_asks_in_a_dialog(signed_in, weekly):
    page = signed_in
    open_draft(page, weekly)
    page.click("button:has-text('Cancel the issue')")
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    shot(page, "cancel-dialog")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert db.session.scalar(db.select(Issue.status)) == "draft"
    page.click("button:has-text('Cancel the issue')")
    dialog.get_by_role("button", name="Cancel the issue").click()
    page.wait_for_selector("text=is cancelled")
    db.session.expire_all()
    assert db.session.scalar(db.select(Issue.status)) == "cancelled"


def test_the_error_page_shows_a_reference(signed_in, live_server, app, monkeypatch):
    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "admin.lists", broken)
    page = signed_in
    page.goto(live_server.url + "/admin/lists")
    expect(page.locator("h1")).to_have_text("Something went wrong")
    expect(page.locator(".reference")).to_have_text(re.compile("^[0-9a-f]{8}$"))
    shot(page, "error-500")
    page.goto(live_server.url + "/admin/issues/424242")
    expect(page.locator("h1")).to_have_text("Page not found")
    shot(page, "error-404")


def test_an_invited_user_sets_a_password_and_signs_in(page, browser, live_server, weekly):
    accounts.create_user("boss@example.org", PASSWORD, "admin")
    for n in range(3):
        person = Subscriber(email=f"reader{n}@example.org", name=f"Reader {n}")
        person.attributes = {"city": ["Oslo", "Tehran", "Lima"][n], "plan": "pro" if n else ""}
        person.subscriptions.append(Subscription(list_id=weekly.id, status="confirmed"))
        db.session.add(person)
    db.session.commit()
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", "boss@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/admin/subscribers")
    expect(page.locator("#total")).to_have_text("3 subscribers")
    shot(page, "subscribers")
    page.goto(live_server.url + "/admin/users")
    page.fill("#email", "new@example.org")
    page.click("button:has-text('Create the invitation')")
    link = page.locator("#invitation-link").input_value()
    assert accounts.find_user("new@example.org").role == "editor"  # the least, unless chosen
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.locator("#invitation-mail")).to_contain_text("We emailed an invitation")
    shot(page, "invitation-link")

    context = browser.new_context()
    newcomer = context.new_page()
    newcomer.goto(live_server.url + link[link.index("/admin/") :])
    newcomer.fill("#password", "my own long password")
    newcomer.fill("#repeat", "my own long password")
    newcomer.click("button:has-text('Set my password')")
    newcomer.wait_for_selector("text=Your password is set")
    newcomer.fill("#email", "new@example.org")
    newcomer.fill("#password", "my own long password")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(live_server.url + "/admin/")
    context.close()


def test_the_invitation_email_in_persian(signed_in, live_server, inbox):
    """What the new user reads, in the language the admin picked; right to left."""
    accounts.create_user("boss@example.org", PASSWORD, "admin")
    page = signed_in
    page.click("text=Sign out")
    page.fill("#email", "boss@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/admin/users")
    page.fill("#email", "maryam@example.org")
    page.select_option("#language", "fa")
    page.click("button:has-text('Create the invitation')")
    link = page.locator("#invitation-link").input_value()
    mail = inbox.wait_for(1, recipient="maryam@example.org")[0]
    page.goto("about:blank")  # away from the admin's CSP, which forbids inline styles
    page.set_content(mail.part("html"))
    expect(page.locator("h1")).to_have_text("دعوت‌نامهٔ شما")
    expect(page.locator("a.button")).to_have_attribute("href", link)
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    shot(page, "invitation-email-fa")
