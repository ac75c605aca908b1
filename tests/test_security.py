"""The audit's findings: redirects, sessions, sign-in throttling, stale links, server errors on
odd input, security headers and tokens in access logs. Each test failed before its fix."""

import logging
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest
from builders import PASSWORD, confirmed_subscriber, csrf, draft, sign_in, try_sign_in, user
from conftest import free_port, wait_until

from newsletter import accounts, links
from newsletter.extensions import db, limiter
from newsletter.models import Issue, IssueItem, Subscription
from newsletter.subscriptions import service

ATTACKER = "198.51.100.7"
OWNER = "203.0.113.20"


@pytest.fixture
def owner(app):
    limiter.reset()
    yield user("boss@example.org", "admin")
    limiter.reset()


# Redirects after signing in


@pytest.mark.parametrize(
    "target",
    [
        "////evil.test/",
        "//evil.test/",
        "/\\evil.test",
        "\\\\evil.test",
        "http://evil.test/",
        "https:evil.test",
        "%2F%2Fevil.test",
        "/%09/evil.test",
        "/%0A/evil.test",
        "%09//evil.test",
        "/%0D/evil.test",
        "javascript:alert(1)",
        "evil.test",
    ],
)
def test_sign_in_never_redirects_to_another_site(client, owner, target):
    answer = sign_in(client, "boss@example.org", next_path=target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/admin/"


def test_sign_in_goes_on_to_a_local_page(client, owner):
    answer = sign_in(client, "boss@example.org", next_path="/admin/users%3Fq%3Dx")
    assert answer.headers["Location"] == "/admin/users?q=x"


def test_signed_out_visitors_are_sent_to_sign_in_with_a_local_next(client, owner):
    answer = client.get("/admin/users")
    assert answer.headers["Location"].startswith("/admin/login?next=%2Fadmin%2Fusers")


# Sessions


@pytest.fixture
def browser_app(make_app):
    """A second app on the same database: each of its requests gets an app context of its
    own, as in production, so nothing about the last request is remembered in `g`."""
    return make_app()


def test_a_saved_cookie_does_not_open_the_admin_after_signing_out(browser_app, owner):
    client = browser_app.test_client()
    sign_in(client, "boss@example.org")
    saved = client.get_cookie("session").value
    page = client.get("/admin/")
    client.post("/admin/logout", data={"csrf_token": csrf(page.text)})
    client.set_cookie("session", saved)
    assert client.get("/admin/").status_code == 302


@pytest.mark.slow
def test_a_new_password_ends_every_session(browser_app, owner):
    client = browser_app.test_client()
    sign_in(client, "boss@example.org")
    assert client.get("/admin/").status_code == 200
    accounts.set_password(owner, "a brand new password")
    assert client.get("/admin/").status_code == 302
    again = browser_app.test_client()
    assert sign_in(again, "boss@example.org", "a brand new password").status_code == 302


# Sign-in throttling


def _error(answer) -> str:
    return re.search(r'role="alert">([^<]*)<', answer.text).group(1)


def test_an_attacker_hammering_from_one_address_does_not_lock_the_owner_out(browser_app, owner):
    app = browser_app
    for _ in range(accounts.FAILURES_PER_ADDRESS + 3):
        try_sign_in(app, "boss@example.org", "wrong password!", ATTACKER)
    assert try_sign_in(app, "boss@example.org", PASSWORD, ATTACKER).status_code == 401
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER).status_code == 302


def test_known_unknown_and_throttled_addresses_get_the_same_answer(browser_app, owner, monkeypatch):
    app = browser_app
    hashed = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: hashed.append(1) or real(*a))
    known = try_sign_in(app, "boss@example.org", "wrong password!", ATTACKER)
    unknown = try_sign_in(app, "nobody@example.org", "wrong password!", ATTACKER)
    invalid = try_sign_in(app, "not an address", "wrong password!", ATTACKER)
    for _ in range(accounts.FAILURES_PER_ADDRESS):
        try_sign_in(app, "boss@example.org", "wrong password!", ATTACKER)
    hashed.clear()
    throttled = try_sign_in(app, "boss@example.org", PASSWORD, ATTACKER)
    assert hashed == [1], "a throttled try costs a password hash like any other"
    answers = [known, unknown, invalid, throttled]
    assert {a.status_code for a in answers} == {401}
    assert len({_error(a) for a in answers}) == 1
    assert "Too many" not in throttled.text


@pytest.mark.slow
def test_one_address_trying_many_accounts_is_throttled(browser_app, owner, monkeypatch):
    app = browser_app
    monkeypatch.setattr(accounts, "FAILURES_PER_IP", 8)  # fewer password hashes to wait for
    for i in range(accounts.FAILURES_PER_IP):
        try_sign_in(app, f"guess{i}@example.org", "wrong password!", ATTACKER)
    assert try_sign_in(app, "boss@example.org", PASSWORD, ATTACKER).status_code == 401
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER).status_code == 302


def _guessed_from_many_networks(app, monkeypatch, email="boss@example.org"):
    """A guesser with a botnet: each network under its own limits, the account over all."""
    monkeypatch.setattr(accounts, "FAILURES_PER_ACCOUNT", 6)  # fewer password hashes to wait for
    for i in range(accounts.FAILURES_PER_ACCOUNT):
        assert try_sign_in(app, email, "wrong password!", f"198.51.100.{i + 1}").status_code == 401


def _device_of(app, email) -> str:
    """The device cookie a browser gets when the address signs in there."""
    answer = try_sign_in(app, email, PASSWORD, OWNER)
    assert answer.status_code == 302
    set_cookie = answer.headers["Set-Cookie"]
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/admin/login", "Max-Age="):
        assert flag in set_cookie
    return re.search(rf"{accounts.DEVICE_COOKIE}=([^;]+)", set_cookie).group(1)


def test_guesses_spread_over_many_networks_are_counted_for_the_account(app, owner, monkeypatch):
    """Five wrong tries per network and fifty per network left a guesser with a thousand
    addresses five thousand guesses a quarter hour at one account."""
    _guessed_from_many_networks(app, monkeypatch)
    assert try_sign_in(app, "boss@example.org", PASSWORD, "192.0.2.99").status_code == 401


def test_the_owner_still_signs_in_where_they_signed_in_before(app, owner, monkeypatch):
    device = _device_of(app, "boss@example.org")
    _guessed_from_many_networks(app, monkeypatch)
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER, device).status_code == 302
    # A browser never signed in from waits.
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER).status_code == 401


def test_a_device_cookie_is_no_pass_for_another_account_nor_forged(app, owner, monkeypatch):
    user("editor@example.org", "editor")
    theirs = _device_of(app, "editor@example.org")
    _guessed_from_many_networks(app, monkeypatch)
    for device in (theirs, "WyJhIiwiYiJd.forged.signature"):
        assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER, device).status_code == 401


def test_wrong_tries_from_a_known_browser_are_limited_there(app, owner):
    device = _device_of(app, "boss@example.org")
    for _ in range(accounts.FAILURES_PER_ADDRESS):
        try_sign_in(app, "boss@example.org", "wrong password!", OWNER, device)
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER, device).status_code == 401
    assert try_sign_in(app, "boss@example.org", PASSWORD, OWNER).status_code == 302


# Links that outlive a change of mind


def test_an_old_confirmation_link_does_not_bring_back_a_subscriber_who_left(app, client, weekly):
    subscription = service.subscribe(weekly, "ana@example.org", "Ana")
    link = links.make(links.CONFIRM, subscription.subscriber_id, weekly.id, subscription.version)
    service.confirm_subscription(subscription)
    service.unsubscribe(subscription, "changed my mind")
    answer = client.post(f"/confirm/{link}")
    assert answer.status_code == 400
    db.session.expire_all()
    assert Subscription.query.one().status == "unsubscribed"


def test_a_confirmation_link_sent_after_coming_back_works(app, client, weekly):
    subscription = service.subscribe(weekly, "ana@example.org")
    service.unsubscribe(subscription)
    subscription = service.subscribe(weekly, "ana@example.org")
    link = links.make(links.CONFIRM, subscription.subscriber_id, weekly.id, subscription.version)
    page = client.get(f"/confirm/{link}")
    client.post(f"/confirm/{link}", data={"csrf_token": csrf(page.text)})
    db.session.expire_all()
    assert Subscription.query.one().status == "confirmed"


def test_the_confirmation_email_carries_a_link_that_works(client, weekly, inbox, worker):
    service.subscribe(weekly, "ana@example.org")
    mail = inbox.wait_for(1, recipient="ana@example.org")[0]
    path = re.search(r"http://newsletter\.test(/confirm/\S+?)[>\s]", mail.part("plain")).group(1)
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf(page.text)})
    db.session.expire_all()
    assert Subscription.query.one().status == "confirmed"


# Odd input that gave server errors


BIG = 2**31


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/lists/{BIG}",
        f"/api/v1/issues/{BIG}",
        f"/api/v1/subscribers/{BIG}",
        f"/api/v1/feeds/{BIG}",
        f"/api/v1/imports/{BIG}",
        f"/api/v1/issues/{2**70}/preview",
    ],
)
def test_ids_too_big_for_the_database_are_404(client, api_headers, path):
    answer = client.get(path, headers=api_headers)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_admin_and_archive_ids_too_big_are_404(editor_client, weekly):
    assert editor_client.get(f"/admin/issues/{BIG}").status_code == 404
    assert editor_client.get(f"/admin/subscribers/{BIG}").status_code == 404
    assert editor_client.get(f"/archive/weekly/{BIG}").status_code == 404


def test_a_list_with_an_empty_sender_address_is_422(client, api_headers):
    body = {"slug": "news", "name": "News", "from_email": "", "postal_address": "1 Main St"}
    answer = client.post("/api/v1/lists", json=body, headers=api_headers)
    assert answer.status_code == 422 and "from_email" in answer.json["error"]["fields"]


def test_nul_characters_are_refused_not_a_server_error(client, api_headers, editor_client):
    body = {"slug": "news", "name": "News\x00", "from_email": "a@example.org"}
    answer = client.post("/api/v1/lists", json=body, headers=api_headers)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_request"
    assert client.get("/api/v1/issues?list=a%00b", headers=api_headers).status_code == 400
    found = client.get("/api/v1/subscribers?email=a%00@b.org", headers=api_headers)
    assert found.status_code == 400
    assert editor_client.get("/admin/subscribers?q=a%00b").status_code == 400
    assert client.get("/subscribe/we%00ekly").status_code == 400


@pytest.mark.parametrize("depth", [900, 5_000, 100_000])
@pytest.mark.parametrize("path", ["/subscribe/weekly", "/api/v1/lists", "/admin/login", "/nowhere"])
def test_json_nested_past_any_use_is_a_400_on_any_address_with_no_token(
    client, weekly, path, depth
):
    """30 KB of "[[[[…" was a 500 on every address, token or not, and a thousand lines of
    traceback in the log each time: the NUL check walked it by recursion, and past Python's
    limit its parser raised RecursionError."""
    body = "[" * depth + "]" * depth
    answer = client.post(path, data=body, content_type="application/json")
    # A public form takes 64 KB at most: 200 KB of brackets is too large there (413).
    assert answer.status_code in (400, 401, 404, 405, 413), answer.status_code
    wrapped = '{"a": "\\u0000", "b": ' + "[" * 800 + "]" * 800 + "}"
    assert client.post(path, data=wrapped, content_type="application/json").status_code == 400


@pytest.mark.slow
def test_numbers_past_any_id_in_a_query_are_no_server_error(
    client, api_headers, editor_client, weekly
):
    """A path's ids had a guard; a query's did not: one past 2**63 (or 2**31) failed it."""
    huge = "9" * 23
    assert client.get(f"/api/v1/subscribers?after={huge}", headers=api_headers).status_code == 422
    for path in (f"/admin/subscribers?after={huge}", f"/admin/lists/weekly/posts?page={huge}"):
        assert editor_client.get(path).status_code == 200, path
    past_the_last = editor_client.get("/admin/lists/weekly/posts?page=999999999")
    assert past_the_last.status_code == 200
    issue = draft(weekly)
    for post_id in (2**40, 10**30):
        changed = client.patch(
            f"/api/v1/issues/{issue.id}",
            json={"items": [{"post_id": post_id}]},
            headers=api_headers,
        )
        assert changed.status_code == 422 and "post_id" in str(changed.json), post_id
        form = {"csrf_token": editor_client.token, "subject": "S", "item_post_id": str(post_id)}
        form |= {"item_position": "1", "item_title": "T", "item_keep": "0"}
        preview = editor_client.post(f"/admin/issues/{issue.id}/live-preview", data=form)
        assert preview.status_code == 422, post_id
        # Refused, with the form as typed to mend (it redirected, losing it).
        assert editor_client.post(f"/admin/issues/{issue.id}", data=form).status_code == 422
    reader = confirmed_subscriber(weekly, "reader@example.org")
    leave = {"csrf_token": editor_client.token, "list_id": huge}
    left = editor_client.post(f"/admin/subscribers/{reader.id}/unsubscribe", data=leave)
    assert left.status_code == 302


def test_a_moment_past_what_a_date_holds_is_a_clear_error(client, api_headers, weekly):
    """0001-01-01 at +14:00 is in the year 0 in UTC: converting it failed the request."""
    edges = {"since": "0001-01-01T00:00:00+14:00", "until": "9999-12-31T23:59:59-12:00"}
    composed = client.post(
        "/api/v1/issues/compose", json={"list": "weekly", **edges}, headers=api_headers
    )
    assert composed.status_code == 422
    assert set(composed.json["error"]["fields"]) == {"since", "until"}
    assert "0001-01-02 and 9999-12-30" in composed.json["error"]["fields"]["since"]
    since = urllib.parse.quote(edges["since"])
    found = client.get(f"/api/v1/posts?list=weekly&since={since}", headers=api_headers)
    assert found.status_code == 422 and "since" in found.json["error"]["fields"]


def test_passwords_are_kept_as_scrypt_at_werkzeugs_cost(app):
    """The tests' signed-in editor has a cheaper hash; a user made as the product makes one
    has scrypt at werkzeug's own cost, and neither the password nor a fast hash of it."""
    from newsletter import accounts

    made = accounts.create_user("owner@example.org", "correct horse battery", "admin")
    method, salt, digest = made.password_hash.split("$")
    assert method == "scrypt:32768:8:1" and len(salt) >= 16 and len(digest) == 128
    assert "correct horse" not in made.password_hash


def test_no_content_has_no_content_type(client, api_headers, weekly):
    answer = client.delete(f"/api/v1/lists/{weekly.id}", headers=api_headers)
    assert answer.status_code == 204 and "Content-Type" not in answer.headers


def test_a_wrong_method_says_which_are_allowed(client, api_headers):
    answer = client.put("/api/v1/lists", headers=api_headers)
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_the_spec_allows_the_nulls_the_api_sends(client, api_headers, weekly):
    spec = client.get("/api/v1/openapi.json").json
    issue = spec["paths"]["/api/v1/issues/{issue_id}"]["get"]["responses"]["200"]
    properties = issue["content"]["application/json"]["schema"]["properties"]
    assert "null" in properties["pause_reason"]["type"]
    assert "null" in properties["send_at"]["type"]


# Security headers


@pytest.fixture
def archived(weekly):
    issue = Issue(
        list_id=weekly.id,
        number=1,
        subject="Sent",
        status="sent",
        send_at=datetime.now(UTC),
        items=[IssueItem(position=0, title="T", url="https://example.org/t")],
    )
    db.session.add(issue)
    db.session.commit()
    return issue


def _has_security_headers(answer):
    policy = answer.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors" in policy and "default-src" in policy, answer.request.path
    assert "unsafe-inline" not in policy.split("script-src")[-1].split(";")[0]
    assert answer.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def _no_inline_code(answer):
    """Pages under the strict policy carry no inline script or style that it would block."""
    assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), answer.request.path
    # In tags only: a page may show HTML for another site as text (the embed snippet).
    assert "<style" not in answer.text, answer.request.path
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle=", answer.text), answer.request.path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/subscribe/weekly",
        "/archive/weekly",
        "/admin/login",
        "/confirm/garbage",
        "/no/such/page",
    ],
)
def test_public_pages_and_errors_have_security_headers(client, weekly, path):
    answer = client.get(path)
    _has_security_headers(answer)
    _no_inline_code(answer)


def test_the_archive_feed_api_and_static_files_have_security_headers(client, archived, api_headers):
    for path in ("/archive/weekly/feed.xml", "/archive/weekly/1", "/static/site.css"):
        _has_security_headers(client.get(path))
    for answer in (
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/lists"),
        client.get("/api/v1/lists", headers=api_headers),
        client.get("/api/v1/nothing", headers=api_headers),
    ):
        _has_security_headers(answer)


def test_admin_pages_have_security_headers_and_no_inline_code(editor_client, archived):
    for path in (
        "/admin/",
        "/admin/issues",
        f"/admin/issues/{archived.id}",
        "/admin/lists",
        "/admin/lists/new",
        "/admin/lists/weekly/edit",
        "/admin/lists/weekly/posts",
        "/admin/lists/weekly/compose",
        "/admin/lists/weekly/import",
        "/admin/subscribers",
    ):
        answer = editor_client.get(path)
        assert answer.status_code == 200, path
        _has_security_headers(answer)
        _no_inline_code(answer)


@pytest.mark.slow
def test_the_admin_works_under_its_policy_in_a_real_browser(page, live_server, weekly, app):
    user("writer@example.org")
    issue = Issue(
        list_id=weekly.id,
        number=1,
        subject="Draft",
        intro="**Hello**",
        items=[IssueItem(position=0, title="T", url="https://example.org/t")],
    )
    db.session.add(issue)
    db.session.commit()
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    page.goto(live_server.url + "/admin/")
    page.fill("#email", "writer@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    # Styles from the static file apply: the sign-out button is not the browser's default.
    assert page.eval_on_selector("nav.admin", "e => getComputedStyle(e).display") == "flex"
    page.fill("#intro", "**Live** words")  # the static script sends the form for a preview
    page.wait_for_selector("text=(unsaved changes shown)")
    preview = page.frame_locator("iframe[title='Desktop preview']")
    assert preview.locator("strong").first.inner_text() == "Live"
    assert blocked == []


# Tokens in access logs


@pytest.mark.parametrize(
    "line, kept",
    [
        ("GET /unsubscribe/eyJh.c2ln HTTP/1.1", "GET /unsubscribe/[token] HTTP/1.1"),
        ("GET /r/1234-0123456789abcdef/2 HTTP/1.1", "GET /r/[token]/2 HTTP/1.1"),
        ("GET /o/1234-0123456789abcdef.gif HTTP/1.1", "GET /o/[token].gif HTTP/1.1"),
        ("GET /admin/invitation/eyJh.c2ln HTTP/1.1", "GET /admin/invitation/[token] HTTP/1.1"),
        ("GET /archive/weekly/3 HTTP/1.1", "GET /archive/weekly/3 HTTP/1.1"),
    ],
)
def test_every_kind_of_token_is_kept_out_of_log_lines(line, kept):
    """Click, open and invitation tokens too: each would let whoever reads the log act."""
    from newsletter.logs import redact

    assert redact(line) == kept


def test_the_dev_server_log_keeps_link_tokens_out(live_server, weekly, caplog):
    token = links.make(links.UNSUBSCRIBE, 1, weekly.id)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        try:
            urllib.request.urlopen(f"{live_server.url}/unsubscribe/{token}?x=1")
        except urllib.error.HTTPError:
            pass
        wait_until(lambda: "/unsubscribe/" in caplog.text, timeout=5)
    assert token not in caplog.text
    assert "/unsubscribe/[token]" in caplog.text


@pytest.mark.slow
def test_gunicorn_access_log_keeps_link_tokens_out(backends, weekly, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        **backends.env(),
        "NEWSLETTER_SECRET_KEY": "test-secret-key",
        "NEWSLETTER_SMTP_URL": "smtp://127.0.0.1:1",
    }
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    signed = [links.make(kind, 1, weekly.id) for kind in ("confirm", "unsubscribe", "preferences")]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        for kind, token in zip(("confirm", "unsubscribe", "preferences"), signed, strict=True):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/{kind}/{token}",
                headers={"Referer": f"http://127.0.0.1:{port}/{kind}/{token}"},
            )
            try:
                urllib.request.urlopen(request)
            except urllib.error.HTTPError:
                pass
        wait_until(lambda: (tmp_path / "serve.log").read_text().count("[token]") >= 6, timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=20)
    text = (tmp_path / "serve.log").read_text()
    assert not any(token in text for token in signed)
    for kind in ("confirm", "unsubscribe", "preferences"):
        assert f"/{kind}/[token]" in text


def test_too_many_sign_in_requests_get_a_page_that_says_so_and_leads_back(app, client):
    """It was a bare "Too Many Requests: 20 per 1 minute" whose one button led a signed-out
    person to the dashboard."""
    app.config["SIGN_IN_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    form = {"csrf_token": csrf(client.get("/admin/login").text), "email": "a@example.org"}
    for _ in range(3):
        answer = client.post("/admin/login", data=form | {"password": "wrong password!"})
    assert answer.status_code == 429
    assert "Too many tries" in answer.text and "Wait a minute" in answer.text
    assert "Back to signing in" in answer.text and "Back to the dashboard" not in answer.text
