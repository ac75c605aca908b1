"""A reader's whole life, in Persian and in English, through the public pages and the mail
that reaches the SMTP server: subscribe, confirm, welcome, preferences, each post and the
digest, leaving, coming back, and the readers whose names and addresses are not ASCII."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import as_rfc2047_reads_it, csrf, draft, submit

from newsletter import each_post, i18n, links
from newsletter.extensions import db
from newsletter.lists import update_list
from newsletter.lists.shapes import ListChanges
from newsletter.models import Issue, Post, Subscriber, Subscription
from newsletter.sending import lifecycle, loop

# An end-to-end audit, each case through a real send and the SMTP sink: in CI's full suite,
# not the quick loop.
pytestmark = pytest.mark.slow

ZWNJ_NAME = "مریم حسینی‌زاده"
BASE = "http://newsletter.test"


def _english_list(make_list):
    return make_list(slug="weekly", name="Iran Interlink Weekly", language="en")


def _link_in(text: str, purpose: str) -> str:
    """The path of the first link of this purpose in an email's text."""
    return re.search(rf"{BASE}(/{purpose}/[\w.\-]+)", text).group(1)


def _subscription(email: str, mailing_list) -> Subscription:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Subscription)
        .join(Subscriber)
        .where(Subscriber.email == email, Subscription.list_id == mailing_list.id)
    )


def _path(purpose: str, subscription: Subscription) -> str:
    version = subscription.version if purpose == links.CONFIRM else None
    token = links.make(purpose, subscription.subscriber_id, subscription.list_id, version)
    return f"/{purpose}/{token}"


# --- The form -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, html, words",
    [
        ("fa", '<html lang="fa" dir="rtl">', ["نشانی ایمیل", "نام", "عضویت"]),
        ("en", '<html lang="en" dir="ltr">', ["Email address", "Name", "Subscribe"]),
    ],
)
def test_the_subscribe_form_speaks_the_list_s_language_and_guesses_the_zone(
    client, make_list, language, html, words
):
    make_list(slug="l", name="List", language=language)
    page = client.get("/subscribe/l").text
    assert html in page
    for word in words:
        assert word in page
    assert 'name="time_zone"' in page and "time_zone.js" in page
    assert re.search(r'<input id="email"[^>]*dir="ltr"', page, re.S)
    assert re.search(r'<input id="name"[^>]*dir="auto"', page, re.S)
    assert 'name="delivery"' not in page  # a list that sends only its digest asks nothing


def test_a_list_that_sends_each_post_lets_a_new_reader_choose_the_rhythm(
    client, persian_list, inbox, worker
):
    update_list(persian_list, ListChanges(each_post=True))
    page = client.get("/subscribe/interlink").text
    choice = re.search(r'<select[^>]*name="delivery".*?</select>', page, re.S)
    assert choice, "the form does not offer the digest, each post or both"
    for label in ("گزیدهٔ خبرها", "هر مطلب به محض انتشار", "هر دو", "شیوهٔ دریافت"):
        assert label in page
    data = {"csrf_token": csrf(page), "email": "new@example.org", "delivery": "both"}
    assert client.post("/subscribe/interlink", data=data).status_code == 200
    assert _subscription("new@example.org", persian_list).delivery == "both"


def test_a_stranger_s_form_does_not_change_a_reader_s_rhythm(client, persian_list):
    update_list(persian_list, ListChanges(each_post=True))
    submit(client, "known@example.org", slug="interlink")
    subscription = _subscription("known@example.org", persian_list)
    subscription.status, subscription.delivery = "confirmed", "each"
    db.session.commit()
    page = client.get("/subscribe/interlink").text
    data = {"csrf_token": csrf(page), "email": "known@example.org", "delivery": "digest"}
    assert client.post("/subscribe/interlink", data=data).status_code == 200
    assert _subscription("known@example.org", persian_list).delivery == "each"


def test_a_rhythm_no_form_offers_is_refused_in_the_reader_s_language(client, persian_list):
    update_list(persian_list, ListChanges(each_post=True))
    page = client.get("/subscribe/interlink").text
    data = {"csrf_token": csrf(page), "email": "typed@example.org", "delivery": "hourly"}
    answer = client.post("/subscribe/interlink", data=data)
    assert answer.status_code == 400
    assert "لطفاً شیوهٔ دریافت را از فهرست انتخاب کنید." in answer.text
    assert 'value="typed@example.org"' in answer.text  # nothing typed is lost
    assert _subscription("typed@example.org", persian_list) is None


# --- Joining: confirm and welcome -------------------------------------------------------------


def test_a_persian_reader_joins_and_every_email_is_persian_and_right_to_left(
    client, persian_list, inbox, worker
):
    assert submit(client, "reader@example.org", ZWNJ_NAME, slug="interlink").status_code == 200
    [confirm] = inbox.wait_for(1)
    message = confirm.message
    raw_subject = confirm.data.split(b"\r\nSubject: ", 1)[1].split(b"\r\nDate:", 1)[0]
    assert raw_subject.isascii() and b"=?utf-8?b?" in raw_subject  # RFC 2047
    assert all(len(word) <= 75 for word in raw_subject.split())
    assert message["Subject"].startswith("لطفاً عضویت")
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    assert message["To"].addresses[0].display_name == ""  # a stranger may have typed it
    html, text = confirm.part("html"), confirm.part("plain")
    assert '<html lang="fa" dir="rtl">' in html
    assert "عضویتم را تأیید می‌کنم" in text and "Confirm" not in text
    assert "/r/" not in html and "/o/" not in html  # no tracking in a confirmation
    path = _link_in(text, "confirm")

    subscription = _subscription("reader@example.org", persian_list)
    assert client.head(path).status_code == 200
    page = client.get(path)
    assert _subscription("reader@example.org", persian_list).status == "unconfirmed"
    assert '<html lang="fa" dir="rtl">' in page.text
    done = client.post(path, data={"csrf_token": csrf(page.text)})
    assert done.status_code == 200 and "عضویت شما تأیید شد" in done.text
    assert _subscription("reader@example.org", persian_list).status == "confirmed"

    welcome = inbox.wait_for(2)[1]
    assert welcome.message["To"].addresses[0].display_name == ZWNJ_NAME  # the ZWNJ kept
    assert f"سلام {ZWNJ_NAME}" in welcome.part("plain")
    assert welcome.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert subscription.subscriber.name == ZWNJ_NAME


def test_an_english_reader_of_an_english_list_gets_english(client, make_list, inbox, worker):
    _english_list(make_list)
    submit(client, "ann@example.org", "Ann", slug="weekly")
    [confirm] = inbox.wait_for(1)
    assert confirm.message["Subject"] == "Please confirm your subscription to Iran Interlink Weekly"
    assert '<html lang="en" dir="ltr">' in confirm.part("html")
    assert not re.search("[\u0600-\u06ff]", confirm.part("plain"))


# --- Preferences ----------------------------------------------------------------------------


def _confirmed(mailing_list, email="reader@example.org", name=ZWNJ_NAME, **values):
    subscriber = Subscriber(email=email, name=name, attributes={}, **values)
    joined = Subscription(
        list_id=mailing_list.id, status="confirmed", confirmed_at=datetime.now(UTC)
    )
    subscriber.subscriptions.append(joined)
    db.session.add(subscriber)
    db.session.commit()
    return subscriber.subscriptions[0]


def test_a_refused_preference_keeps_what_the_reader_chose(client, persian_list):
    """A refusal says why and shows the form as sent: the new name and language stay chosen,
    rather than the stored ones, so the reader fixes one field instead of all of them."""
    subscription = _confirmed(persian_list)
    path = _path(links.PREFERENCES, subscription)
    data = {
        "csrf_token": csrf(client.get(path).text),
        "name": "Maryam H.",
        "locale": "en",
        "time_zone": "Mars/Olympus",
        "lists": [str(persian_list.id)],
        "tracking_asked": "yes",
        "no_tracking": "on",
    }
    answer = client.post(path, data=data)
    assert answer.status_code == 400
    assert 'value="Maryam H."' in answer.text
    assert re.search(r'<option value="en"[^>]*selected', answer.text)
    assert re.search(r'name="no_tracking"\s+checked', answer.text)
    ticked = rf'type="checkbox" name="lists" value="{persian_list.id}"\s+checked'
    assert re.search(ticked, answer.text)
    db.session.expire_all()
    assert db.session.get(Subscriber, subscription.subscriber_id).name == ZWNJ_NAME


def test_a_list_unticked_in_a_refused_form_stays_unticked(client, persian_list):
    subscription = _confirmed(persian_list)
    path = _path(links.PREFERENCES, subscription)
    data = {"csrf_token": csrf(client.get(path).text), "name": "x", "time_zone": "Nowhere/At"}
    answer = client.post(path, data=data)
    assert answer.status_code == 400
    assert not re.search(rf'name="lists" value="{persian_list.id}"\s+checked', answer.text)


def test_switching_language_both_ways_changes_the_page_and_the_mail(
    client, persian_list, make_list
):
    subscription = _confirmed(persian_list)
    path = _path(links.PREFERENCES, subscription)
    for locale, html, saved in (
        ("en", '<html lang="en" dir="ltr">', "Your preferences are saved."),
        ("fa", '<html lang="fa" dir="rtl">', "تنظیمات شما ذخیره شد."),
    ):
        page = client.get(path).text
        data = {"csrf_token": csrf(page), "locale": locale, "lists": [str(persian_list.id)]}
        answer = client.post(path, data=data)
        assert answer.status_code == 200 and html in answer.text and saved in answer.text


def test_two_tabs_saving_at_once_keep_the_later_choice(client, persian_list, make_list):
    english = _english_list(make_list)
    subscription = _confirmed(persian_list)
    path = _path(links.PREFERENCES, subscription)
    first = client.get(path).text
    second = client.get(path).text
    lists = [str(persian_list.id), str(english.id)]
    one = {"csrf_token": csrf(first), "time_zone": "Asia/Tehran", "lists": lists}
    two = {"csrf_token": csrf(second), "time_zone": "Europe/London", "lists": lists}
    assert client.post(path, data=one).status_code == 200
    assert client.post(path, data=two).status_code == 200
    db.session.expire_all()
    subscriber = db.session.get(Subscriber, subscription.subscriber_id)
    assert subscriber.timezone == "Europe/London"
    assert len(subscriber.subscriptions) == 2
    assert {s.status for s in subscriber.subscriptions} == {"confirmed"}


# --- Each post and the digest ------------------------------------------------------------------


def _post(mailing_list, guid, seen, published=None) -> Post:
    row = Post(list_id=mailing_list.id, guid=guid, url=f"https://interlink.example/{guid}/",
               title="گزارش تازه", source="Iran Interlink", excerpt="…",
               published_at=published, first_seen_at=seen)  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def test_a_post_s_email_links_to_no_digest_of_the_same_number(app, persian_list, inbox):
    """Post issues are numbered apart from digests and stay out of the archive: the post's
    email sent the reader to /archive/<list>/1, the first digest, calling itself "Issue 1"."""
    _confirmed(persian_list).delivery = "each"
    db.session.commit()
    update_list(persian_list, ListChanges(each_post=True, each_post_hold=0))
    digest = Issue(list_id=persian_list.id, number=1, subject="Digest one", status="sent",
                   kind="digest", items=[])  # fmt: skip
    db.session.add(digest)
    db.session.commit()
    _post(persian_list, "fresh", datetime.now(UTC))
    [issue_id] = each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1))
    loop.claim_due_issues(datetime.now(UTC) + timedelta(minutes=1))
    assert loop.send_batch(issue_id).sent == 1
    [copy] = inbox.wait_for(1)
    html, text = copy.part("html"), copy.part("plain")
    assert "/archive/interlink/1" not in html + text
    assert "شمارهٔ ۱" not in html + text  # no "Issue 1" for a post
    assert re.search(r'<a href="[^"]+"[^>]*>گزارش تازه</a>', html)  # the post itself
    assert "لغو اشتراک" in text  # still a way out


def test_a_digest_at_each_reader_s_hour_is_dated_the_day_they_get_it(app, persian_list, inbox):
    """Sent at 08:00 in each reader's zone on 16 Azar: the first zone (Auckland) reaches it
    on the 15th in Tehran's calendar, and the Tehran reader's copy said 15 Azar."""
    _confirmed(persian_list, "tehran@example.org")
    _confirmed(persian_list, "auckland@example.org", timezone="Pacific/Auckland")
    issue = draft(persian_list)
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    lifecycle.schedule_local(issue, day, "08:00")
    loop.claim_due_issues(issue.send_at)
    db.session.execute(sa.text("UPDATE deliveries SET not_before = NULL, retry_at = NULL"))
    db.session.commit()
    loop.run_batch(issue.id)
    copies = {m.recipients[0]: m for m in inbox.wait_for(2)}
    expected = i18n.format_date(day, "fa", "persian")
    for copy in copies.values():
        masthead = re.search(r"<p[^>]*>شمارهٔ[^<]*</p>", copy.part("html")).group(0)
        assert expected in masthead, masthead


# --- Leaving and coming back ---------------------------------------------------------------


@pytest.mark.parametrize("as_multipart", [False, True])
def test_one_click_as_the_big_providers_send_it(client, persian_list, inbox, worker, as_multipart):
    subscription = _confirmed(persian_list)
    path = _path(links.UNSUBSCRIBE, subscription)
    body = {"List-Unsubscribe": "One-Click"}
    answer = (
        client.post(path, data=body, content_type="multipart/form-data")
        if as_multipart
        else client.post(path, data=body)
    )
    assert answer.status_code == 200
    assert _subscription("reader@example.org", persian_list).status == "unsubscribed"
    [goodbye] = inbox.wait_for(1)
    assert goodbye.message["Subject"].startswith("اشتراک شما")
    assert client.post(path, data=body).status_code == 200  # again: harmless
    assert len(inbox.messages) == 1


def test_coming_back_keeps_the_reader_s_language_zone_and_rhythm(
    client, persian_list, inbox, worker
):
    update_list(persian_list, ListChanges(each_post=True))
    subscription = _confirmed(persian_list, locale="en", timezone="Europe/London")
    subscription.delivery = "both"
    db.session.commit()
    page = client.get(_path(links.UNSUBSCRIBE, subscription))
    left = client.post(_path(links.UNSUBSCRIBE, subscription), data={"reason": ""})
    assert "You have left" in left.text and '<html lang="en" dir="ltr">' in left.text
    assert page.status_code == 200
    inbox.wait_for(1)
    # The form's choice, which it always sends, is its default: the reader's own stays.
    form = client.get("/subscribe/interlink").text
    data = {"csrf_token": csrf(form), "email": "reader@example.org", "delivery": "digest"}
    assert client.post("/subscribe/interlink", data=data).status_code == 200
    confirm = inbox.wait_for(2)[1]
    assert confirm.message["Subject"].startswith("Please confirm")  # their language still
    path = _link_in(confirm.part("plain"), "confirm")
    client.post(path, data={"csrf_token": csrf(client.get(path).text)})
    back = _subscription("reader@example.org", persian_list)
    assert back.status == "confirmed" and back.delivery == "both"
    assert (back.subscriber.locale, back.subscriber.timezone) == ("en", "Europe/London")


def test_an_expired_confirmation_says_what_to_do_in_persian(client, persian_list, monkeypatch):
    submit(client, "late@example.org", slug="interlink")
    subscription = _subscription("late@example.org", persian_list)
    path = _path(links.CONFIRM, subscription)
    later = datetime.now(UTC) + timedelta(days=8)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later.timestamp())
    answer = client.get(path)
    assert answer.status_code == 410
    assert '<html lang="fa" dir="rtl">' in answer.text
    assert "/subscribe/interlink" in answer.text
    assert _subscription("late@example.org", persian_list).status == "unconfirmed"


# --- Names and addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kept",
    [
        (ZWNJ_NAME, ZWNJ_NAME),
        ("🌷 Sara 🌷", "🌷 Sara 🌷"),
        ("ن" * 200, "ن" * 200),
        ("ن" * 260, "ن" * 200),
    ],
)
def test_any_name_reaches_the_welcome_intact(client, make_list, inbox, worker, name, kept):
    make_list(slug="single", name="Single", opt_in="single", language="fa")
    assert submit(client, "named@example.org", name, slug="single").status_code == 200
    [welcome] = inbox.wait_for(1)
    raw_to = welcome.data.split(b"\r\nTo: ", 1)[1].split(b"\r\nSubject:", 1)[0]
    assert as_rfc2047_reads_it(raw_to.decode("ascii")) == kept
    assert kept in welcome.part("plain")


def test_an_idn_domain_address_joins(client, persian_list, inbox, worker):
    address = "maryam@مثال.ایران"
    assert submit(client, address, slug="interlink").status_code == 200
    [confirm] = inbox.wait_for(1)
    assert confirm.recipients == ["maryam@xn--mgbh0fb.xn--mgba3a4f16a"]
    assert _subscription(address, persian_list) is not None


def test_the_reader_can_leave_everything_from_the_preferences_page(client, persian_list):
    subscription = _confirmed(persian_list)
    path = _path(links.PREFERENCES, subscription)
    page = client.get(path).text
    answer = client.post(path, data={"csrf_token": csrf(page), "lists": []})
    assert answer.status_code == 200
    assert _subscription("reader@example.org", persian_list).status == "unsubscribed"


def test_a_persian_reader_s_dates_are_solar_hijri_in_persian_digits(app):
    assert i18n.format_date(date(2026, 12, 7), "fa", "persian") == "۱۶ آذر ۱۴۰۵"
