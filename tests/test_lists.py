"""The list service: one lookup, one set of rules for making and changing a list, and how each
interface answers when they refuse."""

import pytest

from newsletter import lists
from newsletter.lists.shapes import ListChanges, NewList
from newsletter.models import MailingList

NEW = {"slug": "monthly", "name": "Monthly", "from_email": "Monthly@Example.org"}


def test_one_lookup_by_slug_or_id(weekly):
    assert lists.get_list("weekly") is weekly
    assert lists.get_list(list_id=weekly.id) is weekly
    with pytest.raises(lists.ListNotFound) as missing:
        lists.get_list("nope", field="lists")
    assert missing.value.fields == {"lists": "There is no list 'nope'."}
    with pytest.raises(lists.ListNotFound):
        lists.get_list(list_id=weekly.id + 1)


def test_a_list_that_is_not_public_is_not_found_by_public_pages(make_list, client):
    hidden = make_list(public=False)
    assert lists.get_list("weekly") is hidden
    with pytest.raises(lists.ListNotFound):
        lists.get_list("weekly", public=True)
    assert client.get("/subscribe/weekly").status_code == 404
    assert client.get("/subscribe/nope").status_code == 404


def test_a_new_list_without_an_address_shows_the_configured_one_or_a_notice(app):
    app.config["POSTAL_ADDRESS"] = ""
    made = lists.create_list(NewList.model_validate(NEW))
    assert made.postal_address == lists.NO_POSTAL_ADDRESS
    assert made.from_email == "monthly@example.org"
    app.config["POSTAL_ADDRESS"] = "2 High Street"
    other = lists.create_list(NewList.model_validate(NEW | {"slug": "other"}))
    assert other.postal_address == "2 High Street"
    with pytest.raises(lists.SlugTaken) as taken:
        lists.create_list(NewList.model_validate(NEW))
    assert (taken.value.status, taken.value.code, taken.value.fields) == (
        409,
        "conflict",
        {"slug": "taken"},
    )


def test_changes_leave_nulls_alone_except_reply_to(weekly):
    weekly.reply_to = "replies@example.org"
    changes = ListChanges.model_validate({"name": "Renamed", "from_name": None, "reply_to": None})
    lists.update_list(weekly, changes)
    assert (weekly.name, weekly.from_name, weekly.reply_to) == ("Renamed", "Example News", None)


def test_the_admin_says_a_slug_is_taken(editor_client, weekly):
    form = NEW | {"slug": "weekly", "postal_address": "1 Main Street"}
    answer = editor_client.post("/admin/lists/new", data=form | {"csrf_token": editor_client.token})
    assert answer.status_code == 422 and "taken" in answer.text
    assert MailingList.query.count() == 1
    assert editor_client.get("/admin/lists/nope/edit").status_code == 404
    assert editor_client.get("/admin/lists/nope/posts").status_code == 404


def test_the_api_names_the_field_that_named_a_missing_list(client, api_headers, weekly):
    answer = client.post(
        "/api/v1/subscribers",
        json={"email": "ana@example.org", "lists": ["weekly", "nope"]},
        headers=api_headers,
    )
    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {"lists": "There is no list 'nope'."}
    taken = client.post("/api/v1/lists", json=NEW | {"slug": "weekly"}, headers=api_headers)
    assert taken.status_code == 409
    assert taken.json["error"] == {
        "code": "conflict",
        "message": "A list with that slug exists.",
        "fields": {"slug": "taken"},
    }


def test_the_api_adds_a_subscriber_through_the_service_checks(client, api_headers, weekly):
    body = {"email": "Ana@Example.org", "lists": ["weekly"], "preconfirm": True}
    assert client.post("/api/v1/subscribers", json=body, headers=api_headers).status_code == 201
    again = client.post("/api/v1/subscribers", json=body, headers=api_headers)
    assert again.status_code == 409 and again.json["error"]["fields"] == {"email": "taken"}
    bad = client.post("/api/v1/subscribers", json={"email": "nope"}, headers=api_headers)
    assert bad.status_code == 422 and list(bad.json["error"]["fields"]) == ["email"]


@pytest.mark.parametrize(
    ("language", "stored"), [("fa-IR", "fa"), ("FA", "fa"), ("en_GB", "en"), ("de", None)]
)
def test_a_list_s_language_is_one_its_readers_pages_exist_in(
    client, api_headers, editor_client, language, stored
):
    """A list in German was taken, and its readers got English pages and emails unsaid."""
    answer = client.post("/api/v1/lists", json=NEW | {"language": language}, headers=api_headers)
    if stored is None:
        assert answer.status_code == 422
        assert "one of en, fa" in answer.json["error"]["fields"]["language"]
        form = NEW | {"language": language, "postal_address": "1 Main Street"}
        page = editor_client.post(
            "/admin/lists/new", data=form | {"csrf_token": editor_client.token}
        )
        assert page.status_code == 422 and "one of en, fa" in page.text
        assert MailingList.query.count() == 0
    else:
        assert answer.status_code == 201 and answer.json["language"] == stored
