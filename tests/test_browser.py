"""An editor's week in a real browser: Chromium driven by Playwright against the live app."""

import io

import pytest
from builders import confirmed_subscriber, three_posts
from conftest import wait_until
from playwright.sync_api import expect

from newsletter import accounts
from newsletter.extensions import db
from newsletter.models import Import, Issue

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(page, live_server, weekly):
    accounts.create_user("writer@example.org", PASSWORD, "editor")
    page.goto(live_server.url + "/admin/")
    page.fill("#email", "writer@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    return page


def test_compose_reorder_preview_test_and_schedule(signed_in, live_server, weekly, inbox):
    page = signed_in
    three_posts(weekly)
    page.click("text=Compose")
    page.click("button:has-text('Compose draft')")
    page.wait_for_selector("h2:has-text('Edit')")
    titles = page.locator("input[name=item_title]")
    assert [titles.nth(i).input_value() for i in range(3)] == ["Gamma", "Beta", "Alpha"]
    page.locator("button.handle").first.focus()  # Gamma's
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # Gamma last
    page.fill("#intro", "**This week** in brief")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    assert [titles.nth(i).input_value() for i in range(3)] == ["Beta", "Alpha", "Gamma"]
    preview = page.frame_locator("iframe[title='Desktop preview']")
    assert preview.locator("strong").first.inner_text() == "This week"
    assert page.frame_locator("iframe[title='Mobile preview']").locator("h2").count() == 3
    page.fill("#intro", "**Live** words")  # not saved: the preview follows the form
    page.wait_for_selector("text=(unsaved changes shown)")
    assert preview.locator("strong").first.inner_text() == "Live"
    assert "**Live** words" in page.inner_text("#text-preview")
    page.click("button:has-text('Send a test to me')")
    page.wait_for_selector("text=A test is on its way")
    mail = inbox.wait_for(1, recipient="writer@example.org")[0]
    assert mail.message["Subject"].startswith("[Test] ")
    page.fill("#send_at", "2030-03-01T09:00")
    page.click("button:has-text('Schedule')")
    page.wait_for_selector("text=Scheduled for Fri 1 Mar 2030, 09:00 UTC.")
    assert db.session.scalar(db.select(Issue.status)) == "scheduled"


def test_send_now_and_watch_the_progress_bar_reach_done(signed_in, weekly, inbox, worker):
    page = signed_in
    three_posts(weekly)
    for i in range(20):
        confirmed_subscriber(weekly, f"reader{i}@example.org", commit=False)
    db.session.commit()
    page.click("text=Compose")
    page.click("button:has-text('Compose draft')")
    page.wait_for_selector("h2:has-text('Edit')")
    page.check("input[name=confirm]")
    page.click("button:has-text('Send now')")
    # Waits without eval, which the admin's Content-Security-Policy forbids.
    expect(page.locator("#status")).to_have_text("sent", timeout=30_000)
    assert page.locator("#sent").inner_text() == "20"
    assert page.locator("#bar").get_attribute("value") == "20"
    assert len(inbox.messages) == 20


def test_import_a_csv_with_bad_rows_and_read_the_report(signed_in, live_server, worker):
    page = signed_in
    page.goto(live_server.url + "/admin/lists/weekly/import")
    csv = b"email,name\nana@example.org,Ana\nnot-an-address,Bad\nana@example.org,Again\n"
    page.set_input_files(
        "#file",
        {"name": "people.csv", "mimeType": "text/csv", "buffer": io.BytesIO(csv).getvalue()},
    )
    page.click("button:has-text('Import')")
    page.wait_for_selector("text=Which column is which?")
    assert page.locator("table td").first.inner_text() == "ana@example.org"
    page.click("button:has-text('Import')")
    wait_until(lambda: Import.query.one().status == "done")
    page.wait_for_selector("text=Rejected rows", timeout=15_000)
    report = page.inner_text("main")
    assert "invalid address" in report and "duplicate in this file" in report
    assert page.locator("#imported").inner_text() == "1"
