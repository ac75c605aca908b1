"""The public contract (DESIGN.md, "Public contract") as a tester outside the project drives
it: only the routes, fields and shapes it names, a browser's form posts, a Bearer token."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from builders import error_of, item, rss
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Subscriber, Subscription

# An end-to-end audit, each case through a real send and the SMTP sink: in CI's full suite,
# not the quick loop.
pytestmark = pytest.mark.slow

LIST = {
    "slug": "weekly",
    "name": "Weekly Digest",
    "from_email": "digest@example.org",
    "from_name": "Example News",
    "opt_in": "double",
}


def form_token(html: str) -> str:
    """The hidden CSRF input, read as an outsider reads it: whatever its attribute order."""
    for tag in re.findall(r"<input[^>]*>", html):
        if re.search(r'name="csrf_token"', tag):
            return re.search(r'value="([^"]*)"', tag).group(1)
    raise AssertionError("the form carries no csrf_token input")


def link(text: str, path: str) -> str:
    found = re.search(r"https?://[^\s\"'<>]+/" + path + r"/[^\s\"'<>]+", text)
    assert found, f"no /{path}/ link in the message"
    return found.group(0).split("newsletter.test", 1)[-1]


def body_text(received) -> str:
    return received.part("plain")


def subscribe_as_a_browser(client, email: str, name: str = "Ann Reader"):
    page = client.get("/subscribe/weekly")
    assert page.status_code == 200
    assert re.search(r'name="email"', page.text) and re.search(r'name="name"', page.text)
    return client.post(
        "/subscribe/weekly",
        data={"email": email, "name": name, "csrf_token": form_token(page.text)},
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "http://newsletter.test", "Referer": "http://newsletter.test/"},
    )


@pytest.fixture
def made_list(api):
    answer = api.post("/lists", json=LIST)
    assert answer.status_code == 201, answer.json
    assert {"id", "slug"} <= set(answer.json) and answer.json["slug"] == "weekly"
    return answer.json


def confirmed_reader(client, inbox, email="ann@example.org") -> str:
    """Subscribe and confirm through the web; the preferences/unsubscribe links' mail."""
    answer = subscribe_as_a_browser(client, email)
    assert answer.status_code in (200, 302, 303), answer.status_code
    (message,) = inbox.wait_for(1, recipient=email)
    confirm = link(body_text(message), "confirm")
    page = client.get(confirm)
    assert page.status_code == 200
    # GET shows the page and confirms nothing; a POST, bare as an outside test may send it
    # or with the page's button and its form token as a browser does, confirms.
    answer = client.post(confirm, data={"csrf_token": form_token(page.text)})
    assert answer.status_code in (200, 302, 303)
    assert client.post(confirm).status_code == 200  # again, bare: harmless
    return email


# --- CLI ------------------------------------------------------------------------------------

DSN = (
    "From: MAILER-DAEMON@mx.example.net\r\n"
    "To: bounces@newsletter.test\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Date: Fri, 16 Aug 2019 09:00:00 +0000\r\n"
    "Message-ID: <dsn-1@mx.example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
    "\r\n"
    "--B\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "Your message could not be delivered.\r\n"
    "--B\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
    "Final-Recipient: rfc822; gone@example.net\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected: "
    "User unknown in virtual mailbox table\r\n"
    "--B--\r\n"
)

PLAIN = (
    "From: ann@example.org\r\nTo: digest@example.org\r\nSubject: Thanks!\r\n"
    "Message-ID: <p-1@example.org>\r\n\r\nLoved this week's issue.\r\n"
)


def test_bounces_classify_json_prints_one_object_a_message_with_the_named_keys(runner, tmp_path):
    bounce, plain = tmp_path / "bounce.eml", tmp_path / "plain.eml"
    bounce.write_text(DSN)
    plain.write_text(PLAIN)
    result = runner.invoke(args=["bounces", "classify", str(bounce), str(plain), "--json"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert len(objects) == 2
    first, second = objects
    for found in objects:
        assert set(found) == {"file", "kind", "reason", "recipients"}
        assert found["kind"] in ("hard", "soft", "sender", "complaint", "none")
    assert first["file"] == str(bounce) and first["kind"] == "hard"
    (recipient,) = first["recipients"]
    assert set(recipient) == {"address", "kind", "reason", "status", "diagnostic"}
    assert recipient["address"] == "gone@example.net" and recipient["status"] == "5.1.1"
    assert second["file"] == str(plain) and second["kind"] == "none"
    assert db.session.query(Subscriber).count() == 0


# --- Web ------------------------------------------------------------------------------------


def test_a_browser_subscribes_confirms_and_is_welcomed(client, made_list, inbox, worker):
    confirmed_reader(client, inbox)
    sub = db.session.query(Subscription).one()
    assert sub.status == "confirmed"
    inbox.wait_for(2, recipient="ann@example.org")  # the confirmation and the welcome


def test_the_form_answers_alike_for_a_known_address(client, made_list, inbox, worker):
    first = subscribe_as_a_browser(client, "ann@example.org")
    again = subscribe_as_a_browser(client, "ann@example.org")
    assert first.status_code == again.status_code
    assert first.status_code < 400


def test_the_form_refuses_a_bad_address_with_an_error_not_a_crash(client, made_list):
    answer = subscribe_as_a_browser(client, "not an address")
    assert 400 <= answer.status_code < 500
    assert db.session.query(Subscriber).count() == 0


def test_an_unknown_list_and_token_are_not_found(client, made_list):
    assert client.get("/subscribe/nope").status_code == 404
    for path in ("/confirm/bad", "/unsubscribe/bad", "/preferences/bad"):
        assert 400 <= client.get(path).status_code < 500, path
        assert 400 <= client.post(path).status_code < 500, path


def test_rfc_8058_one_click_unsubscribes_without_cookie_or_form_token(
    app, client, made_list, inbox, worker
):
    confirmed_reader(client, inbox)
    welcome = inbox.wait_for(2, recipient="ann@example.org")[-1].message
    header = welcome["List-Unsubscribe"]
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https = re.search(r"<(https?://[^>]+)>", header).group(1)
    assert "mailto:" in header
    stranger = app.test_client()  # no cookie
    answer = stranger.post(
        https.split("newsletter.test", 1)[-1],
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.query(Subscription).one().status == "unsubscribed"


def welcome_link(client, inbox, purpose: str) -> str:
    """A confirmed reader's link of that purpose, from the welcome email."""
    confirmed_reader(client, inbox)
    return link(body_text(inbox.wait_for(2, recipient="ann@example.org")[-1]), purpose)


def test_unsubscribe_page_then_button(client, made_list, inbox, worker):
    path = welcome_link(client, inbox, "unsubscribe")
    assert client.get(path).status_code == 200
    db.session.expire_all()
    assert db.session.query(Subscription).one().status == "confirmed"  # a GET changes nothing
    assert client.post(path).status_code in (200, 302, 303)
    db.session.expire_all()
    assert db.session.query(Subscription).one().status == "unsubscribed"


def test_preferences_page_opens_and_saves(client, made_list, inbox, worker):
    path = welcome_link(client, inbox, "preferences")
    page = client.get(path)
    assert page.status_code == 200
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    fields["name"] = "Ann Changed"
    answer = client.post(path, data=fields)
    assert answer.status_code in (200, 302, 303), answer.status_code
    db.session.expire_all()
    assert db.session.query(Subscriber).one().name == "Ann Changed"


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


# --- API ------------------------------------------------------------------------------------

FEED = rss(
    item("g1", "First post", "https://example.org/1", "About the first."),
    item("g2", "Second post", "https://example.org/2", "About the second."),
)


def compose(api, since="2000-01-01", until="2100-01-01") -> dict:
    answer = api.post("/issues/compose", json={"list": "weekly", "since": since, "until": until})
    assert answer.status_code == 201, answer.json
    assert {"id", "number", "subject", "items"} <= set(answer.json)
    return answer.json


def add_post(api, title="A post", **extra) -> int:
    body = {
        "list": "weekly",
        "title": title,
        "url": f"https://example.org/{title.replace(' ', '-')}",
        "source": "Example",
        "excerpt": "What it says.",
        **extra,
    }
    answer = api.post("/posts", json=body)
    assert answer.status_code == 201, answer.json
    assert isinstance(answer.json["id"], int)
    return answer.json["id"]


def refused(answer, field: str) -> None:
    """Bad input: a client error in the error shape, naming the field."""
    assert answer.status_code in (400, 422), answer.status_code
    assert field in error_of(answer)["fields"]


def once_sent(api, issue_id: int) -> dict:
    def sent():
        shown = api.get(f"/issues/{issue_id}").json
        return shown if shown["status"] == "sent" else None

    return wait_until(sent, message="the issue never finished")


def import_csv(client, api, headers, data: bytes, preconfirm: str, imported: int) -> dict:
    """POST a CSV to the import as multipart; the import once `imported` rows are in."""
    answer = client.post(
        "/api/v1/subscribers/import",
        data={"file": (io.BytesIO(data), "people.csv"), "list": "weekly", "preconfirm": preconfirm},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 202, answer.json

    def finished():
        shown = api.get(f"/imports/{answer.json['id']}").json
        return shown if shown["imported"] == imported else None

    return wait_until(finished, message="the import never finished")


def test_api_needs_a_bearer_token(client, made_list):
    for headers in ({}, {"Authorization": "Bearer nl_wrong"}):
        answer = client.get("/api/v1/issues/1", headers=headers)
        assert answer.status_code == 401
        error_of(answer)


def test_lists_refuse_a_duplicate_and_a_missing_field_in_the_error_shape(api, made_list):
    again = api.post("/lists", json=LIST)
    assert again.status_code in (409, 422)
    error_of(again)
    missing = api.post("/lists", json={"name": "No slug"})
    assert missing.status_code in (400, 422)
    assert error_of(missing)["fields"]


def test_feed_then_fetch_now_counts_new_posts(app, api, made_list, web_files, worker):
    web_files.files["/feed.xml"] = FEED
    answer = api.post("/feeds", json={"url": web_files.url + "/feed.xml", "list": "weekly"})
    assert answer.status_code == 201, answer.json
    # As installed (the tests' settings answer 202 with a job at once): {new} once fetched.
    app.config["FEED_FETCH_WAIT"] = 15
    fetched = api.post(f"/feeds/{answer.json['id']}/fetch")
    assert fetched.status_code == 200, fetched.json
    assert fetched.json["new"] == 2
    assert api.post(f"/feeds/{answer.json['id']}/fetch").json["new"] == 0


def test_posts_and_compose_number_issues_in_order(api, made_list):
    add_post(api, "Dated", published_at="2030-01-02T09:00:00+00:00")
    add_post(api, "Undated")  # published_at is optional
    first = compose(api)
    assert first["number"] == 1 and len(first["items"]) == 2
    assert isinstance(first["subject"], str) and first["subject"]
    add_post(api, "Later")
    assert compose(api)["number"] == 2


def test_a_post_missing_its_title_is_refused_naming_the_field(api, made_list):
    answer = api.post("/posts", json={"list": "weekly", "url": "https://example.org/x"})
    refused(answer, "title")


def test_issue_has_the_named_fields(api, made_list):
    add_post(api)
    issue = compose(api)
    answer = api.get(f"/issues/{issue['id']}")
    assert answer.status_code == 200
    shown = answer.json
    for key in ("id", "number", "status", "send_at", "pause_reason", "counts", "bounces"):
        assert key in shown, key
    assert {"clicks", "links"} <= set(shown)
    assert {"total", "sent", "failed", "pending"} <= set(shown["counts"])
    assert {"total", "unique"} <= set(shown["clicks"])
    assert isinstance(shown["links"], list) and isinstance(shown["bounces"], dict)
    assert shown["status"] == "draft"
    missing = api.get("/issues/999999")
    assert missing.status_code == 404
    error_of(missing)


def test_send_a_test_with_and_without_a_language(api, made_list, inbox, worker):
    add_post(api)
    issue = compose(api)
    for body in (None, {"language": "en"}):
        answer = api.post(f"/issues/{issue['id']}/test", json=body)
        assert 200 <= answer.status_code < 300, answer.json
    inbox.wait_for(2)
    bad = api.post(f"/issues/{issue['id']}/test", json={"language": "xx"})
    refused(bad, "language")


def test_schedule_with_send_at_then_cancel(api, made_list):
    add_post(api)
    issue = compose(api)
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    answer = api.post(f"/issues/{issue['id']}/schedule", json={"send_at": when.isoformat()})
    assert 200 <= answer.status_code < 300, answer.json
    shown = api.get(f"/issues/{issue['id']}").json
    assert shown["status"] == "scheduled"
    assert datetime.fromisoformat(shown["send_at"].replace("Z", "+00:00")) == when
    assert api.post(f"/issues/{issue['id']}/cancel").status_code < 300
    assert api.get(f"/issues/{issue['id']}").json["status"] == "cancelled"


def test_schedule_refuses_a_time_without_an_offset(api, made_list):
    add_post(api)
    issue = compose(api)
    answer = api.post(f"/issues/{issue['id']}/schedule", json={"send_at": "2099-01-01T09:00:00"})
    refused(answer, "send_at")


def test_schedule_at_a_local_hour_on_a_date(api, made_list):
    add_post(api)
    issue = compose(api)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    answer = api.post(f"/issues/{issue['id']}/schedule", json={"local_time": "09:00", "date": day})
    assert 200 <= answer.status_code < 300, answer.json
    assert api.get(f"/issues/{issue['id']}").json["status"] == "scheduled"


def test_send_pause_resume_and_the_counts(api, client, made_list, inbox, worker):
    confirmed_reader(client, inbox)
    add_post(api)
    issue = compose(api)
    assert 200 <= api.post(f"/issues/{issue['id']}/send").status_code < 300
    paused = api.post(f"/issues/{issue['id']}/pause")
    if paused.status_code < 300:  # it may have finished first: a wrong move is a 409
        assert api.get(f"/issues/{issue['id']}").json["status"] in ("paused", "sent")
        assert api.post(f"/issues/{issue['id']}/resume").status_code in (200, 202, 409)
    else:
        assert paused.status_code == 409
        error_of(paused)

    shown = once_sent(api, issue["id"])
    assert shown["counts"]["total"] == 1 and shown["counts"]["sent"] == 1
    again = api.post(f"/issues/{issue['id']}/cancel")
    assert again.status_code == 409
    error_of(again)


def test_the_archive_shows_a_sent_issue(api, client, made_list, inbox, worker):
    test_send_pause_resume_and_the_counts(api, client, made_list, inbox, worker)
    index = client.get("/archive/weekly")
    assert index.status_code == 200 and "/archive/weekly/1" in index.text
    assert client.get("/archive/weekly/1").status_code == 200
    feed = client.get("/archive/weekly/feed.xml")
    assert feed.status_code == 200 and "xml" in feed.content_type
    assert "/archive/weekly/1" in feed.text
    assert client.get("/archive/weekly/99").status_code == 404
    assert client.get("/archive/nope").status_code == 404


def test_subscribers_found_by_email_and_patched(api, client, made_list, inbox, worker):
    confirmed_reader(client, inbox)
    found = api.get("/subscribers?email=ANN@example.org")
    assert found.status_code == 200
    (reader,) = found.json["items"]
    assert {"id", "email", "name", "status", "subscriptions"} <= set(reader)
    assert reader["email"] == "ann@example.org"
    (subscription,) = reader["subscriptions"]
    assert (subscription["list"], subscription["status"]) == ("weekly", "confirmed")
    patch = {
        "name": "Ann P",
        "time_zone": "Europe/Berlin",
        "locale": "fa",
        "status": "active",
        "subscriptions": [{"list": "weekly", "delivery": "digest"}],
    }
    answer = api.patch(f"/subscribers/{reader['id']}", json=patch)
    assert answer.status_code == 200, answer.json
    stored = db.session.get(Subscriber, reader["id"])
    db.session.refresh(stored)
    assert (stored.name, stored.locale) == ("Ann P", "fa")
    bad = api.patch(f"/subscribers/{reader['id']}", json={"time_zone": "Mars/Olympus"})
    refused(bad, "time_zone")
    assert api.get("/subscribers?email=nobody@example.org").json["items"] == []


def test_import_a_csv_and_follow_it(api, api_headers, client, made_list, worker):
    data = b"email,name\nbob@example.org,Bob\nnot-an-address,Nobody\ncy@example.org,Cy\n"
    shown = import_csv(client, api, api_headers, data, "true", imported=2)
    assert shown["total"] == 3
    assert {"status", "total", "imported", "rejected"} <= set(shown)
    rejected = shown["rejected"]
    assert (rejected if isinstance(rejected, int) else len(rejected)) == 1
    found = api.get("/subscribers?email=bob@example.org").json["items"]
    assert found[0]["subscriptions"][0]["status"] == "confirmed"


def test_openapi_describes_every_route_of_the_contract(client, api_headers):
    answer = client.get("/api/v1/openapi.json", headers=api_headers)
    assert answer.status_code == 200
    doc = answer.json
    assert "openapi" in doc and "paths" in doc
    paths = {re.sub(r"\{[^}]+\}", "{}", p): set(ops) for p, ops in doc["paths"].items()}
    wanted = {
        "/lists": {"post"},
        "/feeds": {"post"},
        "/feeds/{}/fetch": {"post"},
        "/posts": {"post"},
        "/issues/compose": {"post"},
        "/issues/{}": {"get"},
        "/issues/{}/test": {"post"},
        "/issues/{}/schedule": {"post"},
        "/issues/{}/send": {"post"},
        "/issues/{}/pause": {"post"},
        "/issues/{}/resume": {"post"},
        "/issues/{}/cancel": {"post"},
        "/subscribers": {"get"},
        "/subscribers/{}": {"patch"},
        "/subscribers/import": {"post"},
        "/imports/{}": {"get"},
    }
    prefix = "/api/v1" if any(p.startswith("/api/v1") for p in paths) else ""
    for path, methods in wanted.items():
        have = paths.get(prefix + path, set())
        assert methods <= have, f"{path}: {sorted(have)}"
    assert "/subscribers/export" in {p.removeprefix(prefix) for p in paths} or any(
        "export" in p for p in paths
    )


def test_a_form_post_with_the_email_alone_subscribes(client, made_list, inbox, worker):
    page = client.get("/subscribe/weekly")
    answer = client.post(
        "/subscribe/weekly", data={"email": "solo@example.org", "csrf_token": form_token(page.text)}
    )
    assert answer.status_code in (200, 302, 303)
    inbox.wait_for(1, recipient="solo@example.org")


def test_a_persian_list_is_made_with_the_contract_fields_and_its_language(api):
    answer = api.post("/lists", json={**LIST, "slug": "farsi", "language": "fa"})
    assert answer.status_code == 201, answer.json
    assert api.post("/lists", json={**LIST, "slug": "x", "opt_in": "triple"}).status_code in (
        400,
        422,
    )


def test_schedule_takes_z_as_the_offset_and_refuses_the_past(api, made_list):
    add_post(api)
    issue = compose(api)
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"/issues/{issue['id']}/schedule"
    assert 200 <= api.post(path, json={"send_at": when}).status_code < 300
    past = api.post(path, json={"send_at": "2001-01-01T09:00:00+00:00"})
    assert past.status_code in (400, 409, 422)
    error_of(past)


def test_compose_errors_have_the_error_shape(api, made_list):
    empty = api.post(
        "/issues/compose", json={"list": "weekly", "since": "2001-01-01", "until": "2001-01-08"}
    )
    assert empty.status_code in (409, 422)
    error_of(empty)
    unknown = api.post(
        "/issues/compose", json={"list": "nope", "since": "2001-01-01", "until": "2001-01-08"}
    )
    assert unknown.status_code in (404, 422)
    error_of(unknown)
    bad_date = api.post(
        "/issues/compose", json={"list": "weekly", "since": "last week", "until": "2001-01-08"}
    )
    refused(bad_date, "since")


def test_api_wide_errors_have_the_error_shape(client, api, api_headers, made_list):
    assert api.get("/nothing-here").status_code == 404
    error_of(api.get("/nothing-here"))
    assert api.get("/imports/999999").status_code == 404
    error_of(api.get("/imports/999999"))
    broken = client.post(
        "/api/v1/lists", data="{not json", headers=api_headers, content_type="application/json"
    )
    assert broken.status_code == 400
    error_of(broken)
    wrong_method = client.delete("/api/v1/issues/compose", headers=api_headers)
    assert wrong_method.status_code == 405
    error_of(wrong_method)


def test_an_import_without_preconfirm_leaves_readers_to_confirm(
    api, api_headers, client, made_list, worker
):
    import_csv(client, api, api_headers, b"email,name\nbob@example.org,Bob\n", "false", 1)
    (found,) = api.get("/subscribers?email=bob@example.org").json["items"]
    assert found["subscriptions"][0]["status"] == "unconfirmed"


def test_a_refused_copy_shows_in_the_issue_s_counts_and_bounces(
    api, client, made_list, inbox, worker
):
    confirmed_reader(client, inbox)
    confirmed_reader(client, inbox, "gone@example.org")
    inbox.handler.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: User unknown"
    add_post(api)
    issue = compose(api)
    assert api.post(f"/issues/{issue['id']}/send").status_code < 300

    shown = once_sent(api, issue["id"])
    counts = shown["counts"]
    assert (counts["total"], counts["sent"], counts["failed"], counts["pending"]) == (2, 1, 1, 0)
    assert shown["bounces"]["hard"] == 1 and shown["bounces"]["by_reason"]


def test_patch_blocklists_a_subscriber(api, client, made_list, inbox, worker):
    confirmed_reader(client, inbox)
    (reader,) = api.get("/subscribers?email=ann@example.org").json["items"]
    answer = api.patch(f"/subscribers/{reader['id']}", json={"status": "blocklisted"})
    assert answer.status_code == 200, answer.json
    (again,) = api.get("/subscribers?email=ann@example.org").json["items"]
    assert again["status"] == "blocklisted"
    bad = api.patch(f"/subscribers/{reader['id']}", json={"status": "sleeping"})
    refused(bad, "status")
    assert api.patch("/subscribers/999999", json={"name": "x"}).status_code == 404


def test_a_browser_over_https_posts_the_form_with_its_referer(client, made_list, inbox, worker):
    base = "https://newsletter.test"
    page = client.get("/subscribe/weekly", base_url=base)
    answer = client.post(
        "/subscribe/weekly",
        base_url=base,
        data={"email": "tls@example.org", "name": "T", "csrf_token": form_token(page.text)},
        headers={"Referer": base + "/subscribe/weekly", "Origin": base},
    )
    assert answer.status_code in (200, 302, 303), answer.text[:300]
    inbox.wait_for(1, recipient="tls@example.org")


def test_openapi_names_the_statuses_the_contract_gives(client, api_headers):
    doc = client.get("/api/v1/openapi.json", headers=api_headers).json
    paths = {
        re.sub(r"\{[^}]+\}", "{}", p).removeprefix("/api/v1"): ops
        for p, ops in doc["paths"].items()
    }
    for path, method, status in (
        ("/lists", "post", "201"),
        ("/feeds", "post", "201"),
        ("/posts", "post", "201"),
        ("/issues/compose", "post", "201"),
        ("/subscribers/import", "post", "202"),
        ("/issues/{}", "get", "200"),
        ("/imports/{}", "get", "200"),
    ):
        assert status in paths[path][method]["responses"], (path, method)


def test_archive_pages_out_of_range_are_not_found(client, made_list):
    for path in (
        "/archive/weekly/abc",
        "/archive/weekly/0",
        "/archive/weekly?page=99",
        "/archive/weekly?page=x",
        "/archive/weekly/-1",
    ):
        assert client.get(path).status_code in (200, 404), path
    assert client.get("/archive/weekly").status_code == 200
    assert client.get("/archive/weekly/feed.xml").status_code == 200
