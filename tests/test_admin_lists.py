"""Lists in the admin: create, edit, embed."""

from newsletter.extensions import db
from newsletter.models import MailingList

FORM = {
    "slug": "fa-weekly",
    "name": "خبرنامه هفتگی",
    "from_email": "news@example.org",
    "from_name": "News",
    "opt_in": "double",
    "send_weekday": "4",
    "send_time": "09:00",
    "timezone": "Asia/Tehran",
    "language": "fa",
    "direction": "rtl",
    "postal_address": "1 Main Street",
    "public": "on",
}


def test_a_list_is_created_and_edited(editor_client):
    answer = editor_client.post("/admin/lists/new", data=FORM | {"csrf_token": editor_client.token})
    assert answer.status_code == 302
    created = MailingList.query.one()
    assert (created.timezone, created.direction, created.public) == ("Asia/Tehran", "rtl", True)
    page = editor_client.get("/admin/lists/fa-weekly/edit")
    assert '<html lang="en" dir="ltr">' in page.text  # the admin stays English
    assert 'dir="auto"' in page.text and "خبرنامه هفتگی" in page.text
    assert '<h1><bdi dir="auto" lang="fa">خبرنامه هفتگی</bdi></h1>' in page.text
    editor_client.post(
        "/admin/lists/fa-weekly/edit",
        data=FORM | {"name": "Renamed", "reply_to": "", "csrf_token": editor_client.token},
    )
    db.session.expire_all()
    assert MailingList.query.one().name == "Renamed"
    assert MailingList.query.one().public is True


def test_the_form_sets_no_direction_the_language_sets_it(editor_client):
    """The form offered "Text direction", which nothing read: an English list set to rtl
    stayed left to right everywhere."""
    form = FORM | {"direction": "ltr", "csrf_token": editor_client.token}
    editor_client.post("/admin/lists/new", data=form)
    assert MailingList.query.one().direction == "rtl"  # Persian, whatever was sent
    assert 'name="direction"' not in editor_client.get("/admin/lists/fa-weekly/edit").text
    editor_client.post("/admin/lists/fa-weekly/edit", data=form | {"language": "en"})
    db.session.expire_all()
    assert MailingList.query.one().direction == "ltr"


def test_invalid_list_fields_are_shown_and_nothing_is_saved(editor_client):
    bad = FORM | {"from_email": "nope", "timezone": "Mars/Base", "csrf_token": editor_client.token}
    answer = editor_client.post("/admin/lists/new", data=bad)
    assert answer.status_code == 422
    assert "from_email" in answer.text and "timezone" in answer.text
    assert "not a time zone name" in answer.text and "Value error" not in answer.text
    assert MailingList.query.count() == 0


def test_a_list_cannot_be_saved_without_a_postal_address(editor_client, app):
    page = editor_client.get("/admin/lists/new").text
    assert 'name="postal_address"' in page
    answer = editor_client.post(
        "/admin/lists/new",
        data=FORM | {"postal_address": "  ", "csrf_token": editor_client.token},
    )
    assert answer.status_code == 422 and "every email shows it" in answer.text
    assert MailingList.query.count() == 0
    app.config["POSTAL_ADDRESS"] = "Example Org, 2 High Street"
    assert "Example Org, 2 High Street" in editor_client.get("/admin/lists/new").text
    editor_client.post("/admin/lists/new", data=FORM | {"csrf_token": editor_client.token})
    answer = editor_client.post(
        "/admin/lists/fa-weekly/edit",
        data=FORM | {"postal_address": "", "csrf_token": editor_client.token},
    )
    assert answer.status_code == 422
    db.session.expire_all()
    assert MailingList.query.one().postal_address == "1 Main Street"


def test_editors_turn_on_each_post_with_a_hold_and_the_persian_calendar(editor_client):
    editor_client.post("/admin/lists/new", data=FORM | {"csrf_token": editor_client.token})
    page = editor_client.get("/admin/lists/fa-weekly/edit").text
    assert 'name="each_post"' in page and 'name="each_post_hold"' in page
    changes = {"each_post": "on", "each_post_hold": "45", "calendar": "persian"}
    editor_client.post(
        "/admin/lists/fa-weekly/edit", data=FORM | changes | {"csrf_token": editor_client.token}
    )
    db.session.expire_all()
    saved = MailingList.query.one()
    assert (saved.each_post, saved.each_post_hold, saved.calendar) == (True, 45, "persian")
    assert saved.each_post_since is not None  # posts from now on, not the old ones
    refused = editor_client.post(
        "/admin/lists/fa-weekly/edit",
        data=FORM | {"each_post_hold": "9999", "csrf_token": editor_client.token},
    )
    assert refused.status_code == 422 and "each_post_hold" in refused.text
    db.session.expire_all()
    assert MailingList.query.one().each_post_hold == 45
