"""The JSON API: the shapes outside tests rely on, and its errors."""

from datetime import UTC, datetime, timedelta

import pytest
from builders import error_of
from conftest import wait_until

from newsletter import lists
from newsletter.extensions import db
from newsletter.models import Issue

NEW_LIST = {
    "slug": "weekly",
    "name": "Weekly Digest",
    "from_email": "digest@example.org",
    "from_name": "Example News",
    "opt_in": "double",
}


@pytest.fixture
def draft(api):
    api.post("/lists", NEW_LIST)
    api.post(
        "/posts",
        {
            "list": "weekly",
            "title": "A post",
            "url": "https://example.org/a",
            "source": "Ex",
            "published_at": "2019-08-05T09:00:00+00:00",
            "excerpt": "Text",
        },
    )
    return api.post(
        "/issues/compose", {"list": "weekly", "since": "2019-08-01", "until": "2019-08-08"}
    ).json


def test_every_list_field_the_api_takes_it_gives_back(api):
    """calendar, each_post and each_post_hold were written by PATCH and never read back."""
    made = api.post("/lists", NEW_LIST).json
    changes = {"calendar": "persian", "language": "fa", "each_post": True, "each_post_hold": 45}
    changed = api.patch(f"/lists/{made['id']}", changes)
    assert changed.status_code == 200, changed.text
    for answer in (changed.json, api.get(f"/lists/{made['id']}").json):
        assert {name: answer[name] for name in changes} == changes


def test_a_lists_direction_follows_its_language(api):
    """An English list could be set to rtl in the admin, which changed nothing anywhere: the
    language sets it; a caller that gives one keeps it, as the contract's callers may."""
    made = api.post("/lists", NEW_LIST | {"language": "fa"}).json
    assert made["direction"] == "rtl"
    assert api.patch(f"/lists/{made['id']}", {"language": "en"}).json["direction"] == "ltr"
    given = api.post("/lists", NEW_LIST | {"slug": "other", "direction": "rtl"})
    assert given.status_code == 201 and given.json["direction"] == "rtl"


def test_create_list_answers_201_with_id_and_slug(api):
    answer = api.post("/lists", NEW_LIST)
    assert answer.status_code == 201
    assert answer.json["slug"] == "weekly" and isinstance(answer.json["id"], int)
    assert answer.json["from_email"] == "digest@example.org"


def test_a_list_always_has_a_postal_address(api, app, client, editor_client):
    app.config["POSTAL_ADDRESS"] = "Example Org, 2 High Street"
    assert api.post("/lists", NEW_LIST).json["postal_address"] == "Example Org, 2 High Street"
    app.config["POSTAL_ADDRESS"] = None
    other = api.post("/lists", NEW_LIST | {"slug": "other"}).json
    # The public contract creates lists without one: the gap shows until it is filled.
    assert other["postal_address"] == lists.NO_POSTAL_ADDRESS
    assert "this list has none yet" in editor_client.get("/admin/").text
    answer = api.patch(f"/lists/{other['id']}", {"postal_address": " "})
    assert answer.status_code == 422 and "postal_address" in error_of(answer)["fields"]
    blank = api.post("/lists", NEW_LIST | {"slug": "third", "postal_address": ""})
    assert blank.status_code == 422
    fixed = api.patch(f"/lists/{other['id']}", {"postal_address": "3 Low Road"})
    assert fixed.json["postal_address"] == "3 Low Road"
    assert "this list has none yet" not in editor_client.get("/admin/").text


def test_a_duplicate_slug_is_a_conflict(api):
    api.post("/lists", NEW_LIST)
    answer = api.post("/lists", NEW_LIST)
    assert answer.status_code == 409
    assert error_of(answer)["fields"] == {"slug": "taken"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"from_email": "nope"}, "from_email"),
        ({"opt_in": "triple"}, "opt_in"),
        ({"name": "Two\r\nlines"}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_invalid_list_fields_are_422_with_the_field_named(api, change, field):
    answer = api.post("/lists", NEW_LIST | change)
    assert answer.status_code == 422
    assert field in error_of(answer)["fields"]


def test_a_body_that_is_not_json_is_400(api, client, api_headers):
    answer = client.post("/api/v1/lists", data="nope", headers=api_headers)
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "bad_request"


def test_feeds_and_posts_answer_201_with_an_id(api, web_files):
    api.post("/lists", NEW_LIST)
    feed = api.post("/feeds", {"url": web_files.url + "/feed.xml", "list": "weekly"})
    assert feed.status_code == 201 and isinstance(feed.json["id"], int)
    bad = api.post("/feeds", {"url": "file:///etc/passwd", "list": "weekly"})
    assert bad.status_code == 422 and "url" in error_of(bad)["fields"]
    unknown = api.post("/feeds", {"url": web_files.url + "/x", "list": "nope"})
    assert unknown.status_code == 422 and "list" in error_of(unknown)["fields"]
    post = api.post(
        "/posts",
        {"list": "weekly", "title": "T", "url": "https://e.org/t", "source": "S", "excerpt": "E"},
    )
    assert post.status_code == 201 and isinstance(post.json["id"], int)


def test_fetching_a_broken_feed_is_queued_and_the_reason_stored(api, web_files, worker):
    # Fetching happens in a worker (202 and a job), so the reason is on the feed, not a 502.
    api.post("/lists", NEW_LIST)
    web_files.files["/bad.xml"] = b"<html>not a feed"
    feed = api.post("/feeds", {"url": web_files.url + "/bad.xml", "list": "weekly"}).json
    answer = api.post(f"/feeds/{feed['id']}/fetch")
    assert answer.status_code == 202 and answer.json["job"]
    assert wait_until(lambda: api.get(f"/feeds/{feed['id']}").json["last_error"])


def test_a_post_date_without_offset_is_refused(api):
    api.post("/lists", NEW_LIST)
    answer = api.post(
        "/posts",
        {
            "list": "weekly",
            "title": "T",
            "url": "https://e.org/t",
            "source": "",
            "excerpt": "",
            "published_at": "2019-08-01T09:00",
        },
    )
    assert answer.status_code == 422 and "published_at" in error_of(answer)["fields"]


def test_compose_answers_with_number_subject_and_items(draft):
    assert draft["number"] == 1
    assert draft["subject"]
    assert [item["title"] for item in draft["items"]] == ["A post"]


def test_compose_with_no_posts_is_422_and_makes_no_issue(api):
    api.post("/lists", NEW_LIST)
    answer = api.post(
        "/issues/compose", {"list": "weekly", "since": "2001-01-01", "until": "2001-01-08"}
    )
    assert answer.status_code == 422
    assert "no posts" in error_of(answer)["message"]
    assert Issue.query.count() == 0


def test_get_issue_has_status_send_at_and_counts(api, draft):
    body = api.get(f"/issues/{draft['id']}").json
    assert body["status"] == "draft" and body["send_at"] is None
    assert body["counts"] == {"total": 0, "sent": 0, "failed": 0, "pending": 0}
    assert {"id", "number", "status", "send_at", "counts"} <= set(body)


def test_schedule_stores_utc_and_refuses_twice_and_the_past(api, draft):
    path = f"/issues/{draft['id']}/schedule"
    past = api.post(path, {"send_at": "2020-01-01T09:00:00+00:00"})
    assert past.status_code == 422 and "send_at" in error_of(past)["fields"]
    naive = api.post(path, {"send_at": "2030-01-01T09:00:00"})
    assert naive.status_code == 422
    answer = api.post(path, {"send_at": "2030-01-01T09:00:00+03:30"})
    assert answer.status_code == 200
    assert answer.json["send_at"] == "2030-01-01T05:30:00+00:00"
    assert answer.json["status"] == "scheduled"
    again = api.post(path, {"send_at": "2030-01-02T09:00:00+00:00"})
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"


def test_a_subject_with_a_line_break_is_422(api, draft):
    answer = api.patch(f"/issues/{draft['id']}", {"subject": "Hi\r\nBcc: all@example.org"})
    assert answer.status_code == 422 and "subject" in error_of(answer)["fields"]


def test_preview_has_html_and_text_with_sample_links(api, draft):
    body = api.get(f"/issues/{draft['id']}/preview").json
    assert "A post" in body["html"] and "A post" in body["text"]
    assert "@@NL" not in body["html"] + body["text"]


def test_a_test_send_reaches_the_editor(api, draft, inbox):
    answer = api.post(f"/issues/{draft['id']}/test")
    assert answer.status_code == 200
    mail = inbox.wait_for(1, recipient="editor@example.org")[0]
    assert mail.message["Subject"] == "[Test] " + draft["subject"]
    assert api.get(f"/issues/{draft['id']}").json["status"] == "draft"


def test_a_test_send_in_a_language_its_readers_read(api, draft, inbox):
    answer = api.post(f"/issues/{draft['id']}/test", {"language": "fa"})
    assert answer.status_code == 200
    mail = inbox.wait_for(1, recipient="editor@example.org")[0]
    assert 'lang="fa" dir="rtl"' in mail.part("html")
    refused = api.post(f"/issues/{draft['id']}/test", {"language": "de"})
    assert refused.status_code == 422 and "language" in error_of(refused)["fields"]


def test_a_test_send_with_smtp_down_is_502(api, draft, inbox):
    inbox.stop()
    answer = api.post(f"/issues/{draft['id']}/test", {"emails": ["a@example.org"]})
    assert answer.status_code == 502 and error_of(answer)["code"] == "smtp_error"


@pytest.mark.slow
def test_send_now_pause_resume_and_cancel_follow_the_states(api, draft, worker):
    """With the worker running, as it may be for any test once one has started it: "send
    now" answers scheduled, and the issue (to nobody) is sent at once. Cancelling raced
    with it, which made this test fail now and then."""
    path = f"/issues/{draft['id']}"
    assert api.post(path + "/pause").status_code == 409
    assert api.post(path + "/send").json["status"] == "scheduled"
    wait_until(lambda: api.get(path).json["status"] == "sent")
    for verb in ("pause", "resume", "cancel", "send"):
        assert api.post(f"{path}/{verb}").status_code == 409, verb


def test_a_scheduled_issue_can_be_cancelled_and_then_nothing_more(api, draft):
    path = f"/issues/{draft['id']}"
    later = {"send_at": "2099-01-01T09:00:00+00:00"}
    assert api.post(path + "/schedule", later).json["status"] == "scheduled"
    assert api.post(path + "/cancel").json["status"] == "cancelled"
    for verb in ("pause", "resume", "cancel", "send"):
        assert api.post(f"{path}/{verb}").status_code == 409, verb


def test_subscribers_are_found_by_email_in_the_design_shape(api):
    api.post("/lists", NEW_LIST)
    created = api.post(
        "/subscribers",
        {"email": "Ana@Example.org", "name": "Ana", "lists": ["weekly"], "preconfirm": True},
    )
    assert created.status_code == 201
    found = api.get("/subscribers?email=ANA@example.org").json
    assert found["items"] == [
        found["items"][0]
        | {
            "id": created.json["id"],
            "email": "ana@example.org",
            "name": "Ana",
            "status": "active",
        }
    ]
    assert [(s["list"], s["status"]) for s in found["items"][0]["subscriptions"]] == [
        ("weekly", "confirmed")
    ]
    assert api.get("/subscribers?email=nobody@example.org").json["items"] == []
    bad = api.post("/subscribers", {"email": "not-an-address", "lists": ["weekly"]})
    assert bad.status_code == 422 and "email" in error_of(bad)["fields"]


def test_openapi_describes_every_route(client, app):
    spec = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_spec":
            path = rule.rule
            for converter in ("<int:", "<"):
                path = path.replace(converter, "{")
            path = path.replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, (path, method)
    assert "/api/v1/issues/compose" in spec["paths"]


def test_scheduling_is_rejected_for_unknown_issues(api):
    send_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    answer = api.post("/issues/999999/schedule", {"send_at": send_at})
    assert answer.status_code == 404 and error_of(answer)["code"] == "not_found"


@pytest.mark.slow
def test_send_now_with_the_broker_down_answers_what_is_true(draft, make_app, api_headers):
    """ "Send now" committed the issue as due, then failed to queue its dispatch and answered
    500, while beat sent it all the same; a client retrying got a 409. Now it answers 200:
    the issue is due, and beat dispatches it within its interval."""
    broker_down = make_app(BROKER_URL="redis://127.0.0.1:1/0")
    answer = broker_down.test_client().post(
        f"/api/v1/issues/{draft['id']}/send", headers=api_headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json["status"] == "scheduled"
    assert db.session.get(Issue, draft["id"]).send_at is not None


@pytest.mark.slow
def test_attributes_the_api_keeps_are_what_an_export_imports_back(api, client, api_headers):
    """A value of 140,000 characters (or 2 MB) was kept, and the list's export no longer
    imported: the import takes a field of 131,072 at most."""
    api.post("/lists", NEW_LIST)
    made = api.post("/subscribers", {"email": "ana@example.org", "lists": ["weekly"]}).json
    path = f"/subscribers/{made['id']}"
    for attributes in (
        {"note": "y" * 140_000},
        {"x" * 101: "too long a name"},
        {f"k{n}": n for n in range(101)},
        {"deep": {"note": ["y" * 140_000]}},
    ):
        refused = api.patch(path, {"attributes": attributes})
        assert refused.status_code == 422, list(attributes)[:1]
        assert "attributes" in refused.json["error"]["fields"]
    kept = {"note": "ی" * 131_000, "city": "تهران", "tags": ["a", "b"]}
    assert api.patch(path, {"attributes": kept}).status_code == 200
    exported = client.get("/api/v1/subscribers/export?list=weekly", headers=api_headers)
    assert exported.status_code == 200 and "ی" * 131_000 in exported.text


def test_a_misspelt_or_unknown_field_is_named_not_ignored(api):
    """PATCH {"nmae": …} answered 200 and changed nothing; broken JSON was "not an object"."""
    made = api.post("/lists", NEW_LIST).json
    answer = api.patch(f"/lists/{made['id']}", {"nmae": "Renamed", "name": "Weekly"})
    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {"nmae": "There is no such field."}
    assert api.get(f"/lists/{made['id']}").json["name"] == "Weekly Digest"
    broken = api.post("/lists", data='{"slug": "x",', content_type="application/json")
    assert broken.status_code == 400
    assert broken.json["error"]["message"] == "The body is not valid JSON."


@pytest.mark.parametrize("path", ["/issues", "/subscribers"])
def test_a_status_filter_that_is_no_status_is_named(api, path):
    """ "?status=nonsense" answered an empty list, as if there were none of a real status."""
    answer = api.get(f"{path}?status=nonsense")
    assert answer.status_code == 422
    assert "status must be one of" in answer.json["error"]["fields"]["status"]
    assert (
        api.get(f"{path}?status=" + ("sent" if path == "/issues" else "active")).status_code == 200
    )


def test_a_name_too_long_is_said_in_characters(api):
    """It said "Value should have at most 200 items after validation"."""
    made = api.post("/subscribers", {"email": "ana@example.org"}).json
    answer = api.patch(f"/subscribers/{made['id']}", {"name": "ن" * 201})
    assert answer.status_code == 422
    assert answer.json["error"]["fields"]["name"] == "String should have at most 200 characters"


def test_a_feed_url_too_long_is_said_to_be_too_long(api):
    """A 5,000-character URL was told it "must start with http:// or https://"."""
    api.post("/lists", NEW_LIST)
    long = api.post("/feeds", {"url": "https://example.org/" + "a" * 5000, "list": "weekly"})
    assert long.status_code == 422
    assert long.json["error"]["fields"]["url"] == "The feed URL can be at most 2000 characters."
    ftp = api.post("/feeds", {"url": "ftp://example.org/feed", "list": "weekly"})
    assert ftp.json["error"]["fields"]["url"] == "The feed URL must start with http:// or https://."


def test_what_is_created_says_where_it_is(api, draft):
    """A 201 named its new resource in the body alone; Location says where it is."""
    lists = api.get("/lists").json["items"]
    made = api.post("/lists", NEW_LIST | {"slug": "other"})
    subscriber = api.post("/subscribers", {"email": "ana@example.org"})
    issue = api.post(
        "/issues/compose", {"list": "weekly", "since": "2019-08-01", "until": "2019-08-08"}
    )
    for answer, path in (
        (made, f"/api/v1/lists/{made.json['id']}"),
        (subscriber, f"/api/v1/subscribers/{subscriber.json['id']}"),
        (issue, f"/api/v1/issues/{issue.json['id']}"),
    ):
        assert answer.status_code == 201 and answer.headers["Location"].endswith(path)
        assert api.get(path.removeprefix("/api/v1")).json["id"] == answer.json["id"]
    assert len(lists) == 1
