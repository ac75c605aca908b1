"""Signing in to /admin, roles, and the dashboard."""

from datetime import UTC, datetime, timedelta

import pytest
from builders import PASSWORD, csrf, sign_in, user

from newsletter import accounts
from newsletter.extensions import db, limiter
from newsletter.models import Issue, IssueItem, Subscriber, Subscription


@pytest.fixture
def admin_user(app):
    return user("boss@example.org", "admin")


@pytest.fixture
def editor(app):
    return user("writer@example.org")


@pytest.mark.parametrize("path", ["/admin/", "/admin/users"])
def test_a_signed_out_visitor_reaches_nothing_under_admin(client, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert "/admin/login" in answer.headers["Location"]


def test_signing_in_opens_the_dashboard(client, admin_user):
    answer = sign_in(client, "Boss@Example.org")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/"
    assert "Dashboard" in client.get("/admin/").text


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, admin_user):
    wrong = sign_in(client, "boss@example.org", "wrong password!")
    unknown = sign_in(client, "nobody@example.org", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        "Email or password is wrong." in wrong.text
        and "Email or password is wrong." in unknown.text
    )
    assert client.get("/admin/").status_code == 302


def test_repeated_failures_hold_back_that_address_from_that_client_for_a_while(client, admin_user):
    # No lockout any more (anyone could lock the owner out): see test_security.py.
    limiter.reset()
    for _ in range(accounts.FAILURES_PER_ADDRESS):
        sign_in(client, "boss@example.org", "wrong password!")
    held_back = sign_in(client, "boss@example.org")
    assert held_back.status_code == 401 and "Email or password is wrong." in held_back.text
    limiter.reset()  # the window has passed
    assert sign_in(client, "boss@example.org").status_code == 302


def test_the_sign_in_form_needs_its_csrf_token(client, admin_user):
    answer = client.post("/admin/login", data={"email": "boss@example.org", "password": PASSWORD})
    assert answer.status_code == 400


def test_sign_in_does_not_redirect_to_other_sites(client, admin_user):
    answer = sign_in(client, "boss@example.org", next_path="//evil.example/x")
    assert answer.headers["Location"] == "/admin/"


def test_an_editor_cannot_reach_user_management(client, editor):
    sign_in(client, "writer@example.org")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert "Users</a>" not in client.get("/admin/").text


@pytest.mark.slow
def test_an_admin_manages_users(client, admin_user):
    sign_in(client, "boss@example.org")
    page = client.get("/admin/users")
    assert page.status_code == 200
    client.post(
        "/admin/users",
        data={
            "email": "new@example.org",
            "role": "editor",
            "csrf_token": csrf(page.text),
        },
    )
    assert accounts.find_user("new@example.org").role == "editor"


def test_signing_out_needs_a_post_and_ends_the_session(client, admin_user):
    sign_in(client, "boss@example.org")
    page = client.get("/admin/")
    assert client.get("/admin/logout").status_code == 405
    client.post("/admin/logout", data={"csrf_token": csrf(page.text)})
    assert client.get("/admin/").status_code == 302


def test_session_cookies_are_http_only_and_secure_on_https(
    client, admin_user, monkeypatch, tmp_path
):
    answer = sign_in(client, "boss@example.org")
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    from newsletter import config

    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.example.org")
    assert config.load(tmp_path)["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "http://localhost:5000")
    assert config.load(tmp_path)["SESSION_COOKIE_SECURE"] is False


def test_the_dashboard_shows_subscribers_growth_and_issues(client, admin_user, weekly):
    old = Subscriber(email="old@example.org", attributes={})
    old.subscriptions.append(
        Subscription(
            list_id=weekly.id,
            status="confirmed",
            confirmed_at=datetime.now(UTC) - timedelta(days=30),
        )
    )
    new = Subscriber(email="new@example.org", attributes={})
    new.subscriptions.append(
        Subscription(list_id=weekly.id, status="confirmed", confirmed_at=datetime.now(UTC))
    )
    item = {"position": 0, "title": "T", "url": "https://example.org/t"}
    db.session.add_all(
        [
            old,
            new,
            Issue(
                list_id=weekly.id,
                number=1,
                subject="Last week",
                status="sent",
                items=[IssueItem(**item)],
            ),
            Issue(
                list_id=weekly.id,
                number=2,
                subject="Coming up",
                status="scheduled",
                send_at=datetime(2030, 1, 3, 9, tzinfo=UTC),
                items=[IssueItem(**item)],
            ),
        ]
    )
    db.session.commit()
    sign_in(client, "boss@example.org")
    page = client.get("/admin/").text
    assert '<div class="figure">2</div>' in page
    assert "+1 this week" in page
    assert '#2 <bdi dir="auto">Coming up</bdi>' in page and "Thu 3 Jan 2030, 09:00 UTC" in page
    assert '#1 <bdi dir="auto">Last week</bdi> (sent)' in page
