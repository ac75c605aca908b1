"""One error base: each rule's error carries its field, HTTP status and code, and the API
answers every one of them in its one shape. A reader's 500 page shows the reference the error
was logged with, in the reader's language."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from newsletter import i18n
from newsletter.accounts import AccountError, SignInError
from newsletter.addresses import InvalidEmail
from newsletter.digest.compose import ComposeError
from newsletter.errors import NewsletterError
from newsletter.links import TokenError
from newsletter.posts.feeds import FeedError
from newsletter.posts.service import PostError
from newsletter.sending.lifecycle import ScheduleError, StateError
from newsletter.subscriptions.importer import UnreadableFile


def test_the_domain_errors_share_one_base_with_field_status_and_code():
    for kind in (
        AccountError,
        SignInError,
        ComposeError,
        FeedError,
        PostError,
        ScheduleError,
        StateError,
        UnreadableFile,
        InvalidEmail,
        TokenError,
    ):
        assert issubclass(kind, NewsletterError)
    error = NewsletterError("Bad.")
    assert (error.field, error.status, error.code, error.fields) == (None, 422, "invalid", {})
    error = ComposeError("The subject cannot be empty.", "subject")
    assert error.fields == {"subject": "The subject cannot be empty."}
    assert (StateError("x").status, StateError("x").code, StateError("x").field) == (
        409,
        "conflict",
        None,
    )
    assert ScheduleError("That time has passed: choose a later one.").field == "send_at"
    assert InvalidEmail("nope").field == "email"
    assert NewsletterError("x", status=409, code="taken").code == "taken"


@pytest.fixture
def api(client, api_headers, make_list):
    make_list()

    def call(method, path, json=None):
        return client.open("/api/v1" + path, method=method, json=json, headers=api_headers)

    call(
        "POST",
        "/posts",
        {
            "list": "weekly",
            "title": "A post",
            "url": "https://example.org/a",
            "published_at": "2019-08-05T09:00:00+00:00",
        },
    )
    return call


def _error(answer, status: int) -> dict:
    assert answer.status_code == status, answer.json
    assert set(answer.json) == {"error"}
    assert set(answer.json["error"]) == {"code", "message", "fields"}
    return answer.json["error"]


def test_each_transition_names_its_own_field_or_none(api):
    draft = api(
        "POST",
        "/issues/compose",
        {"list": "weekly", "since": "2019-08-01"} | {"until": "2019-08-08"},
    ).json
    path = f"/issues/{draft['id']}"

    past = _error(api("POST", path + "/schedule", {"send_at": "2020-01-01T09:00:00+00:00"}), 422)
    assert past == {
        "code": "invalid",
        "message": "That time has passed: choose a later one.",
        "fields": {"send_at": "That time has passed: choose a later one."},
    }
    for action in ("unschedule", "pause", "resume"):
        refused = _error(api("POST", f"{path}/{action}"), 409)
        assert refused["code"] == "conflict" and refused["fields"] == {}, action

    assert api("POST", path + "/cancel").status_code == 200
    for action in ("send", "cancel"):
        refused = _error(api("POST", f"{path}/{action}"), 409)
        assert refused["fields"] == {} and "cancelled" in refused["message"], action
    send_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    refused = _error(api("POST", path + "/schedule", {"send_at": send_at}), 409)
    assert refused["fields"] == {}  # the state, not send_at, is what is wrong

    edited = _error(api("PATCH", path, {"subject": "New"}), 409)
    assert edited == {
        "code": "conflict",
        "message": "An issue that is cancelled cannot be edited.",
        "fields": {},
    }


def test_compose_and_post_errors_name_their_fields(api):
    backwards = api(
        "POST",
        "/issues/compose",
        {"list": "weekly", "since": "2019-08-08"} | {"until": "2019-08-01"},
    )
    assert list(_error(backwards, 422)["fields"]) == ["until"]
    untitled = api(
        "POST", "/posts", {"list": "weekly", "title": " ", "url": "https://example.org/b"}
    )
    assert _error(untitled, 422)["fields"] == {"title": "The title cannot be empty."}


def test_a_missing_token_still_asks_for_a_bearer_token(client):
    answer = client.get("/api/v1/issues")
    assert _error(answer, 401)["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="newsletter"'


# --- The readers' error page ---------------------------------------------------------------


def _broken(before=None):
    def view(**_):
        if before:
            before()
        raise RuntimeError("a bug")

    return view


def test_a_readers_error_page_shows_the_reference_it_was_logged_with(
    client, app, monkeypatch, caplog
):
    monkeypatch.setitem(app.view_functions, "pages.home", _broken())
    with caplog.at_level(logging.ERROR):
        answer = client.get("/")
    assert answer.status_code == 500 and "Something went wrong" in answer.text
    shown = re.search(r'<code class="reference" dir="ltr">([0-9a-f]{8})</code>', answer.text)
    reference = shown[1]
    assert "If it happens again, tell us this reference:" in answer.text
    assert f"reference {reference}" in caplog.text and "RuntimeError: a bug" in caplog.text
    assert 'class="brand"' not in answer.text  # the readers' page, not the admin's


def test_the_reference_is_given_in_the_readers_language(client, app, make_list, monkeypatch):
    persian = make_list(slug="farsi", language="fa", direction="rtl")
    # A list's page that fails after choosing the list's language, whatever the browser says.
    failing = _broken(lambda: i18n.use_locale(mailing_list=persian))
    monkeypatch.setitem(app.view_functions, "subscriptions.subscribe_form", failing)
    answer = client.get("/subscribe/farsi", headers={"Accept-Language": "en"})
    assert answer.status_code == 500
    assert '<html lang="fa" dir="rtl">' in answer.text
    assert "اگر دوباره پیش آمد، این شناسه را به ما بگویید:" in answer.text
    assert re.search(r'class="reference" dir="ltr">[0-9a-f]{8}<', answer.text)


def test_a_page_that_is_only_missing_has_no_reference(client):
    answer = client.get("/no-such-page", headers={"Accept-Language": "fa"})
    assert answer.status_code == 404 and 'class="reference"' not in answer.text


@pytest.mark.slow
def test_a_reader_sees_the_reference_in_persian(page, live_server, app, monkeypatch):
    """In Chromium; the page fixture keeps a screenshot in test-artifacts/."""
    monkeypatch.setitem(app.view_functions, "pages.home", _broken())
    page.set_extra_http_headers({"Accept-Language": "fa"})
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    reference = page.locator("code.reference")
    assert re.fullmatch("[0-9a-f]{8}", reference.inner_text())
    direction = "getComputedStyle(document.querySelector('code.reference')).direction"
    assert page.evaluate(direction) == "ltr"
