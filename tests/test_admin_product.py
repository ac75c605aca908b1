"""The admin as a product: finding one's way, confirming what cannot be undone, inviting users
without anyone seeing a password, posts of any days, an error page with a reference, and the
subscribers' attributes on the page and in the export."""

import csv
import html
import io
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from builders import PASSWORD, csrf, draft, sign_in, user
from flask import g

from newsletter import accounts
from newsletter.extensions import db
from newsletter.models import Issue, Post, Subscriber, Subscription


@pytest.fixture
def admin_client(client, app):
    user("boss@example.org", "admin")
    sign_in(client, "boss@example.org")
    client.token = csrf(client.get("/admin/").text)
    return client


def person(mailing_list, address: str, **attributes) -> Subscriber:
    subscriber = Subscriber(email=address, name="", attributes=attributes)
    subscriber.subscriptions.append(Subscription(list_id=mailing_list.id, status="confirmed"))
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def posts_aged(mailing_list, days: list[float]) -> None:
    now = datetime.now(UTC)
    for n, age in enumerate(days):
        db.session.add(
            Post(
                list_id=mailing_list.id,
                guid=f"g{n}",
                url=f"https://example.org/{n}",
                title=f"Post number {n}",
                published_at=now - timedelta(days=age),
            )
        )
    db.session.commit()


# --- Finding one's way ---------------------------------------------------------------------


def test_the_sign_in_page_names_the_product(client):
    page = client.get("/admin/login").text
    assert 'class="brand-mark">newsletter<' in page and "<title>Sign in – newsletter" in page


def test_the_bar_names_the_product_and_marks_where_you_are(editor_client, weekly):
    page = editor_client.get("/admin/subscribers").text
    assert 'class="brand"' in page and ">newsletter</a>" in page
    active = re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', page)
    assert active == ["/admin/subscribers"]


def test_a_page_about_a_list_names_the_list(editor_client, weekly):
    issue = draft(weekly)
    for path in (f"/admin/issues/{issue.id}", "/admin/lists/weekly/posts"):
        page = editor_client.get(path).text
        assert 'class="list-name" dir="auto">Weekly Digest</span>' in page
    assert "list-name" not in editor_client.get("/admin/issues").text


# --- Confirming what cannot be undone ------------------------------------------------------


def test_blocklisting_needs_the_box_ticked(editor_client, weekly):
    someone = person(weekly, "sam@example.org")
    path = f"/admin/subscribers/{someone.id}/blocklist"
    answer = editor_client.post(
        path, data={"csrf_token": editor_client.token}, follow_redirects=True
    )
    assert "Not blocklisted: tick the box to confirm." in answer.text
    db.session.expire_all()
    assert db.session.get(Subscriber, someone.id).status == "active"
    editor_client.post(path, data={"csrf_token": editor_client.token, "confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Subscriber, someone.id).status == "blocklisted"


def test_erasing_needs_the_address_typed(editor_client, weekly):
    someone = person(weekly, "sam@example.org")
    path = f"/admin/subscribers/{someone.id}/delete"
    for typed in (None, "yes", "someone@example.org"):
        data = {"csrf_token": editor_client.token} | ({"confirm": typed} if typed else {})
        answer = editor_client.post(path, data=data, follow_redirects=True)
        assert "Not erased: type the address to confirm." in answer.text
        assert Subscriber.query.count() == 1
    editor_client.post(path, data={"csrf_token": editor_client.token, "confirm": "Sam@Example.org"})
    assert Subscriber.query.count() == 0


def test_the_subscriber_page_asks_before_blocklisting_or_erasing(editor_client, weekly):
    someone = person(weekly, "sam@example.org")
    page = editor_client.get(f"/admin/subscribers/{someone.id}").text
    assert 'name="confirm" value="yes" required' in page
    assert '<input id="confirm-erase" name="confirm" type="text" required' in page


def test_cancelling_an_issue_needs_the_box_ticked(editor_client, weekly):
    issue = draft(weekly)
    path = f"/admin/issues/{issue.id}/cancel"
    answer = editor_client.post(
        path, data={"csrf_token": editor_client.token}, follow_redirects=True
    )
    assert "Not cancelled: tick the box to confirm." in answer.text
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "draft"
    editor_client.post(path, data={"csrf_token": editor_client.token, "confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "cancelled"


# --- Invitations instead of passwords ------------------------------------------------------


def invite(admin_client, email="new@example.org", role="editor", **more) -> str:
    form = {"email": email, "role": role, "csrf_token": admin_client.token} | more
    answer = admin_client.post("/admin/users", data=form)
    assert answer.status_code == 200
    return shown_link(answer.text)


def shown_link(page: str) -> str:
    return html.unescape(
        re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', page)[1]
    )


@pytest.mark.slow
def test_the_invitation_is_emailed_and_shown(admin_client, inbox):
    link = invite(admin_client)
    mail = inbox.wait_for(1, recipient="new@example.org")[0]
    assert mail.message["Subject"] == "Your invitation to edit the newsletters"
    assert mail.message["Reply-To"] == "boss@example.org"
    assert f'href="{link}"' in mail.part("html")
    assert link in mail.part("plain")
    assert "boss@example.org" in mail.part("plain") and "7 days" in mail.part("plain")
    page = admin_client.get("/admin/users")  # shown once, never again
    assert "invitation-link" not in page.text


@pytest.mark.slow
def test_an_invitation_in_persian(admin_client, inbox):
    link = invite(admin_client, language="fa")
    mail = inbox.wait_for(1, recipient="new@example.org")[0]
    assert mail.message["Subject"] == "دعوت شما برای ویرایش خبرنامه‌ها"
    body = mail.part("html")
    assert '<html lang="fa" dir="rtl">' in body and "۷ روز" in body
    assert '<bdi dir="auto">boss@example.org</bdi>' in body and link in body


@pytest.mark.slow
def test_a_fresh_invitation_link_is_emailed_too(admin_client, inbox):
    invite(admin_client)
    newcomer = accounts.find_user("new@example.org")
    answer = admin_client.post(
        f"/admin/users/{newcomer.id}/invitation", data={"csrf_token": admin_client.token}
    )
    assert len(inbox.wait_for(2, recipient="new@example.org")) == 2
    assert shown_link(answer.text) in inbox.to("new@example.org")[1].part("plain")


@pytest.mark.slow
def test_without_mail_the_admin_still_gets_the_link(admin_client, inbox):
    inbox.stop()  # nothing listens: as when mail is not set up
    link = invite(admin_client)
    page = admin_client.get("/admin/users")
    assert link.startswith("http") and "invitation-link" not in page.text
    answer = admin_client.post(
        f"/admin/users/{accounts.find_user('new@example.org').id}/invitation",
        data={"csrf_token": admin_client.token},
    )
    assert "could not be sent" in answer.text and "send them this link yourself" in answer.text


@pytest.mark.slow
def test_an_unknown_language_is_emailed_in_the_default_one(admin_client, inbox):
    invite(admin_client, language="xx<script>")
    mail = inbox.wait_for(1, recipient="new@example.org")[0]
    assert mail.message["Subject"] == "Your invitation to edit the newsletters"


@pytest.mark.slow
def test_adding_a_user_gives_a_link_where_they_set_their_own_password(admin_client, app):
    page = admin_client.get("/admin/users").text
    assert 'name="password"' not in page
    link = invite(admin_client)
    assert link.startswith(app.config["BASE_URL"] + "/admin/invitation/")
    newcomer = accounts.find_user("new@example.org")
    assert newcomer.role == "editor"

    visitor = app.test_client()
    path = link[link.index("/admin/") :]
    g.pop("csrf_token", None)  # the tests' app context outlives requests: a fresh token
    form = visitor.get(path)
    assert form.status_code == 200 and "new@example.org" in form.text
    token = csrf(form.text)
    differ = visitor.post(
        path, data={"password": "a long new one!", "repeat": "another", "csrf_token": token}
    )
    assert differ.status_code == 422 and "The two passwords differ." in differ.text
    done = visitor.post(
        path,
        data={"password": "a long new one!", "repeat": "a long new one!", "csrf_token": token},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/admin/login"
    assert sign_in(visitor, "new@example.org", "a long new one!").status_code == 302

    again = app.test_client().get(path)
    assert again.status_code == 404 and "used already" in again.text


def test_an_invitation_expires(admin_client, app, monkeypatch):
    link = invite(admin_client)
    path = link[link.index("/admin/") :]
    monkeypatch.setitem(app.config, "INVITATION_MAX_AGE", -1)
    answer = app.test_client().get(path)
    assert answer.status_code == 404 and "This invitation has expired" in answer.text


def test_a_forged_invitation_sets_nothing(app, admin_client):
    answer = app.test_client().get("/admin/invitation/not-a-token")
    assert answer.status_code == 404 and "not valid" in answer.text


@pytest.mark.slow
def test_no_admin_page_shows_a_password(admin_client, weekly):
    issue = draft(weekly)
    someone = person(weekly, "sam@example.org", city="Oslo")
    invite(admin_client)
    pages = [
        "/admin/",
        "/admin/issues",
        f"/admin/issues/{issue.id}",
        "/admin/lists",
        "/admin/lists/weekly/edit",
        "/admin/lists/weekly/posts",
        "/admin/lists/weekly/compose",
        "/admin/subscribers",
        f"/admin/subscribers/{someone.id}",
        "/admin/users",
    ]
    for path in pages:
        html = admin_client.get(path).text
        assert PASSWORD not in html, path
        fields = re.findall(r"<input[^>]*>", html)
        assert not [f for f in fields if "password" in f and 'type="password"' not in f], path


# --- Posts of any days ---------------------------------------------------------------------


def test_the_posts_page_shows_30_days_in_pages_and_says_what_is_older(editor_client, weekly):
    posts_aged(weekly, [i * 0.4 for i in range(60)] + [45, 50, 400])
    first = editor_client.get("/admin/lists/weekly/posts").text
    assert "60 posts" in first and "Showing the last 30 days" in first
    assert first.count("<tr dir=") == 50 and "Page 1 of 2" in first
    assert "3 older posts are not shown" in first
    older = re.search(r'rel="next" href="([^"]+)"', first)[1].replace("&amp;", "&")
    second = editor_client.get(older).text
    assert second.count("<tr dir=") == 10 and "Page 2 of 2" in second
    every = re.search(r'href="([^"]+)">show every post', first)[1].replace("&amp;", "&")
    assert "63 posts" in editor_client.get(every).text


def test_the_posts_page_starts_at_the_last_issue(editor_client, weekly):
    posts_aged(weekly, [1, 2, 3, 10, 20])
    issue = draft(weekly)
    issue.status, issue.until = "sent", datetime.now(UTC) - timedelta(days=5)
    db.session.commit()
    page = editor_client.get("/admin/lists/weekly/posts").text
    assert "Showing since the last issue" in page and "3 posts" in page


def test_the_posts_page_filters_by_days(editor_client, weekly):
    posts_aged(weekly, [1, 40, 41, 42, 100])
    day = (datetime.now(UTC) - timedelta(days=43)).date()
    to = (datetime.now(UTC) - timedelta(days=39)).date()
    page = editor_client.get(f"/admin/lists/weekly/posts?since={day}&until={to}").text
    assert "3 posts" in page and "Post number 1<" in page and "Post number 0<" not in page
    bad = editor_client.get("/admin/lists/weekly/posts?since=yesterday").text
    assert 'class="error"' in bad


# --- The error pages -----------------------------------------------------------------------


def test_an_unexpected_error_shows_the_reference_it_was_logged_with(
    editor_client, app, monkeypatch, caplog
):
    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "admin.issues", broken)
    with caplog.at_level(logging.ERROR):
        answer = editor_client.get("/admin/issues")
    assert answer.status_code == 500 and "Something went wrong" in answer.text
    reference = re.search(r'class="reference">([0-9a-f]{8})<', answer.text)[1]
    assert f"reference {reference}" in caplog.text and "RuntimeError: a bug" in caplog.text
    assert 'class="brand"' in answer.text  # the admin's own page


def test_admin_404_and_403_are_admin_pages(editor_client):
    missing = editor_client.get("/admin/issues/424242")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert 'class="brand"' in missing.text
    forbidden = editor_client.get("/admin/users")
    assert forbidden.status_code == 403 and "Not for your role" in forbidden.text


def test_a_public_404_stays_the_public_page(client):
    answer = client.get("/no-such-page")
    assert answer.status_code == 404 and 'class="brand"' not in answer.text


# --- Subscribers' attributes ---------------------------------------------------------------


def test_the_subscribers_page_counts_and_shows_attribute_columns(editor_client, weekly):
    person(weekly, "a@example.org", city="Oslo", plan="pro")
    person(weekly, "b@example.org", city="Tehran", tags=["x", "y"])
    person(weekly, "c@example.org")
    page = editor_client.get("/admin/subscribers").text
    assert "3 subscribers" in page
    heads = re.findall(r'<th class="attribute" dir="auto">([^<]+)</th>', page)
    assert heads == ["city", "plan", "tags"]
    assert '<td dir="auto">Oslo</td>' in page and "[&#34;x&#34;, &#34;y&#34;]" in page
    assert "1 subscriber match" in editor_client.get("/admin/subscribers?q=b%40").text


def test_the_csv_export_has_a_column_per_attribute(editor_client, weekly):
    person(weekly, "a@example.org", city="Oslo", plan="=HYPERLINK(1)")
    person(weekly, "b@example.org", city="Tehran", email="other", score=3)
    answer = editor_client.get("/admin/lists/weekly/export.csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0])[-4:] == ["city", "attribute_email", "plan", "score"]
    a, b = sorted(rows, key=lambda r: r["email"])
    assert a["city"] == "Oslo" and a["plan"] == "'=HYPERLINK(1)" and a["score"] == ""
    assert b["attribute_email"] == "other" and b["score"] == "3" and b["email"] == "b@example.org"


# --- The issue editor's items --------------------------------------------------------------


def test_the_editor_has_long_excerpts_and_move_buttons(editor_client, weekly):
    issue = draft(weekly)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert '<textarea name="item_excerpt" rows="3" dir="auto" aria-label="Excerpt">' in page
    assert 'data-move="-1"' in page and 'class="handle small"' in page
    assert 'name="item_position"' in page  # the order without JavaScript


def test_a_persian_list_name_and_subject_keep_their_own_direction_on_english_pages(
    editor_client, make_list
):
    """Editors' and readers' text inside the admin's English lines is set apart (bdi, or a
    cell of its own direction): a Persian name ending a sentence would otherwise pull the
    sentence's punctuation to its side."""
    news = make_list(slug="khabar", name="خبرنامه هفتگی")
    issue = draft(news)
    issue.subject = "گزارش هفته"
    db.session.commit()
    isolated = '<bdi dir="auto">خبرنامه هفتگی</bdi>'
    for path in ("/admin/lists/khabar/compose", "/admin/lists/khabar/import"):
        assert isolated in editor_client.get(path).text, path
    assert isolated in editor_client.get(f"/admin/issues/{issue.id}").text
    issues = editor_client.get("/admin/issues").text
    assert '<td dir="auto">خبرنامه هفتگی</td>' in issues
    dashboard = editor_client.get("/admin/").text
    assert '<h2 dir="auto">خبرنامه هفتگی</h2>' in dashboard


def test_a_refused_form_comes_back_as_it_was_typed(admin_client, weekly):
    """Adding a subscriber, inviting a user and an A/B test, each refused: the fields came
    back empty (the subscriber's), reset (the invitation's role) or blank (the subjects)."""
    token = {"csrf_token": admin_client.token}
    added = admin_client.post(
        "/admin/subscribers",
        data=token | {"email": "foo@bar", "name": "سارا 🌷", "list": "weekly", "preconfirm": "on"},
    )
    assert added.status_code == 422 and "Not added" in added.text
    assert 'value="foo@bar"' in added.text and 'value="سارا 🌷"' in added.text
    assert 'name="preconfirm" checked' in added.text
    invited = admin_client.post(
        "/admin/users", data=token | {"email": "not an address", "role": "admin"}
    )
    assert invited.status_code == 422
    assert "<option selected>admin</option>" in invited.text
    issue = draft(weekly)
    tried = admin_client.post(
        f"/admin/issues/{issue.id}/ab",
        data=token
        | {"ab_subject": ["Only one", "", "", ""], "ab_share": "33", "ab_wait_minutes": "45"},
    )
    assert tried.status_code == 422 and "A/B test not saved" in tried.text
    assert 'value="Only one"' in tried.text
    assert 'name="ab_share" type="number" min="5" max="50" value="33"' in tried.text
