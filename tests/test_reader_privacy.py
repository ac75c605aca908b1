"""A reader's own data: "Email me my data" and "Erase me" on the preferences page.

The preferences link is in every email, and emails are forwarded: whoever holds it may
change preferences, but reading the data or erasing it takes a second link, emailed to the
address itself, that works for a day. Only that link's page shows or erases anything, and
only the erase page's button (a POST) erases: mail scanners follow links with GET and HEAD.
"""

import json
import re
import time

import pytest
import sqlalchemy as sa
from builders import csrf
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter import links, suppression
from newsletter.extensions import db
from newsletter.logs import redact
from newsletter.models import Subscriber, Subscription
from newsletter.subscriptions import service

# An end-to-end audit, each case through a real send and the SMTP sink: in CI's full suite,
# not the quick loop.
pytestmark = pytest.mark.slow

ANA = "ana@example.org"
# What only the data itself holds: a page that shows it has given the data away.
CONSENT_IP = "203.0.113.77"


def _reader(mailing_list, email: str = ANA, name: str = "Ana", locale=None) -> Subscription:
    subscriber = Subscriber(email=email, name=name, attributes={"city": "Shiraz"}, locale=locale)
    subscription = Subscription(
        list_id=mailing_list.id, status="confirmed", consent_ip=CONSENT_IP, consent_source="form"
    )
    subscriber.subscriptions.append(subscription)
    db.session.add(subscriber)
    db.session.commit()
    return subscription


def _preferences(subscription) -> str:
    token = links.make(links.PREFERENCES, subscription.subscriber_id, subscription.list_id)
    return f"/preferences/{token}"


def _ask(client, subscription, kind: str):
    """Press "Email me my data" (data) or "Erase me" (erase) on the preferences page."""
    page = client.get(_preferences(subscription))
    assert page.status_code == 200
    return client.post(f"{_preferences(subscription)}/{kind}", data={"csrf_token": csrf(page.text)})


def _link(received, purpose: str) -> str:
    return re.search(rf"http://newsletter\.test(/{purpose}/[\w.-]+)", received.part("plain"))[1]


def _gone(email: str = ANA) -> bool:
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email == email)) is None


def data_requests():
    """The service, imported late: each test here fails alone on code without it."""
    from newsletter.subscriptions import data_requests

    return data_requests


def _page_text(answer) -> str:
    """A page without what differs between two readers' and two requests' pages: the form
    tokens, the links, the address."""
    return re.sub(r'value="[^"]+"|[\w.]+@example\.org|/preferences/[^"/]+', "", answer.text)


def _admin_export(editor_client, subscriber_id: int) -> dict:
    answer = editor_client.get(f"/admin/subscribers/{subscriber_id}/export.json")
    assert answer.status_code == 200
    return answer.json


# --- The preferences page ------------------------------------------------------------------


def test_the_preferences_page_offers_both_and_shows_no_data(client, weekly):
    ana = _reader(weekly)
    page = client.get(_preferences(ana)).text
    assert "Your data" in page
    for kind, button in (("data", "Email me my data"), ("erase", "Erase me")):
        form = re.search(
            rf'<form method="post" action="[^"]+/{kind}"[^>]*>(.*?)</form>', page, re.S
        )
        assert form and 'name="csrf_token"' in form[1] and button in form[1], kind
    assert CONSENT_IP not in page and "Shiraz" not in page


def _download(client, link: str):
    """The data link's page, then its button: the page alone holds none of the data."""
    page = client.get(link)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert CONSENT_IP not in page.text
    return client.post(link, data={"csrf_token": csrf(page.text)})


def test_a_scanner_following_the_data_link_gets_no_data(client, weekly):
    """Mail scanners fetch every link in a message: the download went to the first."""
    ana = _reader(weekly)
    link = "/data/" + links.make("data", ana.subscriber_id, ana.list_id, links.address_check(ANA))
    for answer in (client.get(link), client.head(link)):
        assert answer.status_code == 200 and answer.mimetype == "text/html"
        assert CONSENT_IP not in answer.text and "Content-Disposition" not in answer.headers
    assert client.post(link).status_code == 400  # no form token: the page again, no data


def test_emailing_my_data_in_english(client, weekly, inbox, worker):
    ana = _reader(weekly)
    answer = _ask(client, ana, "data")
    assert answer.status_code == 200
    assert "We are emailing" in answer.text and "24 hours" in answer.text
    assert CONSENT_IP not in answer.text
    [mail] = inbox.wait_for(1)
    assert mail.recipients == [ANA] and mail.sender == weekly.from_email
    assert mail.message["Subject"] == "Your data from Weekly Digest"
    assert "Example News" in mail.message["From"] and "digest@example.org" in mail.message["From"]
    assert CONSENT_IP not in mail.data.decode()  # a link, never the data itself
    download = _download(client, _link(mail, "data"))
    assert download.status_code == 200
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download.headers["Cache-Control"]
    data = download.json
    assert data["email"] == ANA and data["attributes"] == {"city": "Shiraz"}
    assert data["subscriptions"][0]["consent_ip"] == CONSENT_IP


def test_emailing_my_data_in_persian(client, persian_list, inbox, worker):
    reader = _reader(persian_list, name="مریم")
    answer = _ask(client, reader, "data")
    assert '<html lang="fa" dir="rtl">' in answer.text
    assert "پیوندی برای دریافت داده‌هایتان" in answer.text and "۲۴ ساعت" in answer.text
    [mail] = inbox.wait_for(1)
    assert str(mail.message["Subject"]) == "داده‌های شما در ایران اینترلینک — Weekly"
    html = mail.part("html")
    assert 'lang="fa" dir="rtl"' in html and "دریافت داده‌هایم" in html
    assert not re.search(r"\b(Hello|Download|hours|ignore)\b", mail.part("plain"))
    assert _download(client, _link(mail, "data")).json["name"] == "مریم"


def test_the_reader_gets_the_same_json_as_the_admin_export(editor_client, weekly, inbox, worker):
    ana = _reader(weekly, name="آنا <b>")
    _ask(editor_client, ana, "data")
    [mail] = inbox.wait_for(1)
    mine = _download(editor_client, _link(mail, "data"))
    assert mine.json == _admin_export(editor_client, ana.subscriber_id)
    # Both downloads are kept out of caches: the admin's too.
    admin = editor_client.get(f"/admin/subscribers/{ana.subscriber_id}/export.json")
    assert "no-store" in admin.headers["Cache-Control"]
    assert json.loads(mine.data)["name"] == "آنا <b>"


# --- Erasing -------------------------------------------------------------------------------


def test_erasing_me_in_english_takes_the_button_not_the_link(client, weekly, inbox, worker):
    ana = _reader(weekly)
    answer = _ask(client, ana, "erase")
    assert answer.status_code == 200 and "link to erase your data" in answer.text
    assert not _gone()
    [mail] = inbox.wait_for(1)
    assert mail.recipients == [ANA]
    assert mail.message["Subject"] == "Erase your data from Weekly Digest"
    path = _link(mail, "erase")
    assert client.head(path).status_code == 200
    page = client.get(path)
    assert page.status_code == 200 and not _gone()
    text = " ".join(page.text.split())
    for said in ("You leave every list", "no list of ours will email it again"):
        assert said in text, said
    assert "cannot be subscribed again" in text and "cannot be undone" in text
    erased = client.post(path, data={"csrf_token": csrf(page.text)})
    assert erased.status_code == 200 and "Your data is erased" in erased.text
    assert _gone() and suppression.reason(ANA) == "erased"
    again = client.get(path)
    assert again.status_code == 410 and "already erased" in again.text
    assert client.post(path, data={"csrf_token": csrf(page.text)}).status_code == 410


def test_erasing_me_in_persian(client, persian_list, inbox, worker):
    reader = _reader(persian_list, name="مریم")
    answer = _ask(client, reader, "erase")
    assert '<html lang="fa" dir="rtl">' in answer.text
    assert "پیوندی برای پاک کردن داده‌هایتان" in answer.text
    [mail] = inbox.wait_for(1)
    assert str(mail.message["Subject"]) == "پاک کردن داده‌های شما از ایران اینترلینک — Weekly"
    assert 'lang="fa" dir="rtl"' in mail.part("html")
    path = _link(mail, "erase")
    page = client.get(path, headers={"Accept-Language": "en"})
    assert '<html lang="fa" dir="rtl">' in page.text and "برای همیشه پاک کنید" in page.text
    done = client.post(path, data={"csrf_token": csrf(page.text)})
    assert '<html lang="fa" dir="rtl">' in done.text and "داده‌های شما پاک شد" in done.text
    assert _gone()
    again = client.get(path)
    assert again.status_code == 410 and '<html lang="fa" dir="rtl">' in again.text
    assert "پیش‌تر پاک شده" in again.text


def test_an_erase_without_its_form_token_erases_nothing(client, weekly, inbox, worker):
    _ask(client, _reader(weekly), "erase")
    path = _link(inbox.wait_for(1)[0], "erase")
    answer = client.post(path)
    assert answer.status_code == 400 and "Erase my data for good" in answer.text
    assert not _gone()


def test_an_erased_reader_s_data_link_says_the_data_is_erased(client, weekly, inbox, worker):
    ana = _reader(weekly)
    _ask(client, ana, "data")
    path = _link(inbox.wait_for(1)[0], "data")
    service.erase(db.session.get(Subscriber, ana.subscriber_id))
    answer = client.get(path)
    assert answer.status_code == 410 and "already erased" in answer.text
    assert answer.mimetype == "text/html" and ANA not in answer.text


# --- What a forwarded preferences link can do ----------------------------------------------


def test_a_forwarded_preferences_link_never_shows_data_or_erases(app, weekly, inbox, worker):
    ana = _reader(weekly)
    _reader(weekly, "someone@example.org")
    stranger = app.test_client()
    for kind in ("data", "erase"):
        answer = _ask(stranger, ana, kind)
        assert answer.status_code == 200
        assert CONSENT_IP not in answer.text and "Shiraz" not in answer.text
    assert not _gone()
    mails = inbox.wait_for(2)
    assert all(mail.recipients == [ANA] for mail in mails)
    db.session.expire_all()
    assert db.session.get(Subscription, ana.id).status == "confirmed"  # no list was left


def test_the_buttons_change_no_preference(client, weekly, make_list, inbox, worker):
    """A POST of a button carries none of the form's fields: read as the form, it would have
    left every list."""
    ana = _reader(weekly)
    for kind in ("data", "erase"):
        assert _ask(client, ana, kind).status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, ana.id).status == "confirmed"
    assert db.session.get(Subscriber, ana.subscriber_id).name == "Ana"


@pytest.mark.parametrize("kind", ["data", "erase"])
def test_a_stale_button_does_nothing_and_says_so(client, persian_list, inbox, kind):
    reader = _reader(persian_list)
    answer = client.post(f"{_preferences(reader)}/{kind}")
    assert answer.status_code == 400 and '<html lang="fa" dir="rtl">' in answer.text
    assert 'role="alert"' in answer.text
    assert inbox.messages == [] and not _gone()


# --- Links ---------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["data", "erase"])
@pytest.mark.parametrize("other", [links.PREFERENCES, links.UNSUBSCRIBE, links.CONFIRM])
def test_a_link_of_another_purpose_opens_nothing(client, weekly, purpose, other):
    ana = _reader(weekly)
    token = links.make(other, ana.subscriber_id, ana.list_id, links.address_check(ANA))
    answers = [client.get(f"/{purpose}/{token}"), client.head(f"/{purpose}/{token}")]
    if purpose == "erase":
        answers.append(client.post(f"/{purpose}/{token}"))
    for answer in answers:
        assert answer.status_code == 400
        assert CONSENT_IP not in answer.text and answer.mimetype == "text/html"
    assert not _gone()


def test_a_data_link_does_not_erase_nor_an_erase_link_download(client, weekly):
    ana = _reader(weekly)
    check = links.address_check(ANA)
    data = links.make("data", ana.subscriber_id, ana.list_id, check)
    erase = links.make("erase", ana.subscriber_id, ana.list_id, check)
    assert client.post(f"/erase/{data}").status_code == 400
    assert client.get(f"/data/{erase}").status_code == 400
    assert not _gone()


@pytest.mark.parametrize("purpose", ["data", "erase"])
def test_forged_and_tampered_links_are_refused(client, weekly, purpose):
    ana = _reader(weekly)
    good = links.make(purpose, ana.subscriber_id, ana.list_id, links.address_check(ANA))
    at = good.rindex(".") + 1
    tampered = good[:at] + ("A" if good[at] != "A" else "B") + good[at + 1 :]
    forged = URLSafeTimedSerializer("other-key", salt=f"newsletter-{purpose}").dumps(
        [ana.subscriber_id, ana.list_id, links.address_check(ANA)]
    )
    for token in ("garbage", tampered, forged):
        assert client.get(f"/{purpose}/{token}").status_code == 400
        if purpose == "erase":
            assert client.post(f"/{purpose}/{token}").status_code == 400
    assert not _gone()


def test_a_link_for_an_address_since_changed_opens_nothing(client, weekly):
    """The link went to the address it names: a changed address (or, on SQLite, an id given
    again after an erasure) is someone else's mailbox."""
    ana = _reader(weekly)
    token = links.make("data", ana.subscriber_id, ana.list_id, links.address_check(ANA))
    db.session.get(Subscriber, ana.subscriber_id).email = "new@example.org"
    db.session.commit()
    answer = client.get(f"/data/{token}")
    assert answer.status_code == 400 and "new@example.org" not in answer.text


class TwentyFiveHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 25 * 3600


@pytest.mark.parametrize("purpose", ["data", "erase"])
def test_an_expired_link_says_so_in_the_reader_s_language(app, client, persian_list, purpose):
    reader = _reader(persian_list)
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=f"newsletter-{purpose}", signer=TwentyFiveHoursAgo
    ).dumps([reader.subscriber_id, reader.list_id, links.address_check(ANA)])
    answers = [client.get(f"/{purpose}/{old}")]
    if purpose == "erase":
        answers.append(client.post(f"/{purpose}/{old}"))
    for answer in answers:
        assert answer.status_code == 410
        assert '<html lang="fa" dir="rtl">' in answer.text and "۲۴ ساعت" in answer.text
    assert not _gone()


# --- Rate limit ----------------------------------------------------------------------------


def test_one_email_of_each_kind_per_reader_and_the_same_page_either_way(
    client, weekly, inbox, worker
):
    ana = _reader(weekly)
    other = _reader(weekly, "other@example.org")
    for kind in ("data", "erase"):
        first, second, third = (_ask(client, ana, kind) for _ in range(3))
        assert first.status_code == second.status_code == third.status_code == 200
        assert _page_text(first) == _page_text(second) == _page_text(third)
    # Another reader is not held back by Ana's requests; theirs come after Ana's were queued.
    _ask(client, other, "data")
    inbox.wait_for(1, recipient="other@example.org")
    mine = inbox.wait_for(2, recipient=ANA)
    assert sorted(_link(m, "(data|erase)").split("/")[1] for m in mine) == ["data", "erase"]
    assert data_requests().email_link(ana, "data") is False  # still held


def test_a_day_holds_at_most_three_of_each_kind_however_often_asked(
    app, client, weekly, inbox, worker
):
    """A forwarded email's preferences link is enough to ask: with the ten minutes between
    asks gone by (turned off here), the day's cap still bounds what reaches the mailbox."""
    app.config["PRIVACY_EMAIL_EVERY_MINUTES"] = 0
    ana = _reader(weekly)
    sent = [data_requests().email_link(ana, "data") for _ in range(5)]
    assert sent == [True, True, True, False, False]
    assert data_requests().email_link(ana, "erase") is True  # a kind of its own
    assert "At most 3 of each kind a day." in _ask(client, ana, "data").text
    assert len(inbox.wait_for(4, recipient=ANA)) == 4
    app.config["PRIVACY_EMAILS_A_DAY"] = 0  # no cap: each ask is sent
    assert data_requests().email_link(ana, "data") is True
    assert "of each kind a day" not in _ask(client, ana, "data").text


def test_a_suppressed_address_is_not_mailed_and_the_page_is_the_same(client, weekly, inbox, worker):
    ana = _reader(weekly)
    other = _reader(weekly, "other@example.org")
    db.session.get(Subscriber, ana.subscriber_id).status = "blocklisted"
    db.session.commit()
    assert _page_text(_ask(client, ana, "data")) == _page_text(_ask(client, other, "data"))
    inbox.wait_for(1, recipient="other@example.org")
    assert data_requests().email_link(ana, "erase") is False
    assert inbox.to(ANA) == []


def test_data_and_erase_tokens_are_kept_out_of_log_lines():
    assert redact("GET /data/eyJh.c2ln HTTP/1.1") == "GET /data/[token] HTTP/1.1"
    assert redact("POST /erase/eyJh.c2ln HTTP/1.1") == "POST /erase/[token] HTTP/1.1"


def test_an_hour_s_link_is_said_in_the_singular(app, client, weekly, inbox, worker):
    """The page and the email said "1 hours" when the links were set to last an hour."""
    app.config["PRIVACY_LINK_MAX_AGE"] = 3600
    answer = _ask(client, _reader(weekly), "data")
    assert "It works for 1 hour." in answer.text
    [mail] = inbox.wait_for(1)
    assert "it works for 1 hour." in mail.part("plain")
