"""Joining and leaving through the public pages, and the bad input they must survive."""

import re
import time

import pytest
from builders import csrf, submit
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter import links
from newsletter.addresses import as_meant
from newsletter.extensions import db, limiter
from newsletter.models import Subscriber, Subscription
from newsletter.subscriptions import service


def test_form_needs_its_csrf_token(client, weekly):
    answer = client.post("/subscribe/weekly", data={"email": "ana@example.org"})
    assert answer.status_code == 400
    assert Subscriber.query.count() == 0


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, weekly):
    first = submit(client, "ana@example.org", "Ana")
    again = submit(client, "ana@example.org", "Ana")
    other = submit(client, "someone@example.org")
    strip = lambda page: re.sub(r'value="[^"]+"', "", page.text)  # noqa: E731
    assert first.status_code == again.status_code == other.status_code == 200
    assert strip(first) == strip(again) == strip(other)


def test_addresses_are_normalised_and_idn_domains_accepted(client, weekly):
    submit(client, "  Ana@EXAMPLE.org ")
    submit(client, "reader@bücher.example")
    emails = {s.email for s in Subscriber.query}
    assert emails == {"ana@example.org", "reader@bücher.example"}


@pytest.mark.parametrize(
    "typed",
    [
        "ali۱۲۳@example.org",  # a Persian keyboard's digits
        "ali١٢٣@example.org",  # an Arabic keyboard's
        "ａｌｉ１２３＠ｅｘａｍｐｌｅ．ｏｒｇ",  # a CJK input method's full-width forms
        "\u202bali123@example.org\u202c\u200f",  # copied from right-to-left text
        "ali123@example.org\u200c",
        "mailto:ali123@example.org",
        "<ali123@example.org>",
        "ali123@example.org.",  # the end of a sentence
    ],
)
def test_an_address_is_taken_as_its_owner_meant_it(client, weekly, typed):
    assert submit(client, typed).status_code == 200
    assert [s.email for s in Subscriber.query] == ["ali123@example.org"]


@pytest.mark.slow
@given(st.emails())
def test_a_valid_address_is_never_changed_by_reading_it_as_meant(email):
    assert as_meant(email) == email


@pytest.mark.parametrize(
    "email",
    ["not-an-address", "a@b", "", "x" * 250 + "@example.org", "ana@example.org\r\nBcc: x@y.z"],
)
def test_invalid_or_overlong_addresses_get_a_clear_error(client, weekly, email):
    answer = submit(client, email)
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
    assert Subscriber.query.count() == 0


def test_a_name_with_line_breaks_and_markup_is_stored_as_one_line_of_text(client, weekly):
    submit(client, "ana@example.org", "Ana\r\nBcc: victim@example.org <script>alert(1)</script>")
    subscriber = Subscriber.query.one()
    assert "\n" not in subscriber.name and "\r" not in subscriber.name
    assert subscriber.name.startswith("Ana Bcc: victim@example.org")


def test_a_name_cannot_turn_the_text_after_it_around(client, weekly):
    """A direction override in a name ("Ana\u202e") reversed the rest of the greeting's line;
    a Persian name's zero-width non-joiner and an emoji's joiner are kept."""
    submit(client, "ana@example.org", "Ana \u202emoc.elpmaxe\u202c \u2067x\u2069")
    submit(client, "maryam@example.org", "مریم\u200cسادات 👩\u200d💻")
    names = {s.email: s.name for s in Subscriber.query}
    assert names == {
        "ana@example.org": "Ana moc.elpmaxe x",
        "maryam@example.org": "مریم\u200cسادات 👩\u200d💻",
    }


def test_consent_is_recorded(client, weekly):
    submit(client, "ana@example.org")
    subscription = Subscription.query.one()
    assert subscription.status == "unconfirmed"
    assert subscription.consent_at is not None
    assert subscription.consent_ip == "127.0.0.1"
    assert subscription.consent_source.startswith("form:")


def test_unknown_or_private_lists_have_no_form(client, make_list):
    make_list(slug="staff", public=False)
    assert client.get("/subscribe/staff").status_code == 404
    assert client.get("/subscribe/nope").status_code == 404


@pytest.mark.slow
def test_confirmation_link_in_mail_shows_a_button_and_only_post_confirms(
    client, weekly, inbox, worker
):
    submit(client, "ana@example.org", "Ana")
    mail = inbox.wait_for(1, recipient="ana@example.org")[0]
    assert mail.message["Subject"] == "Please confirm your subscription to Weekly Digest"
    path = re.search(r"http://newsletter\.test(/confirm/\S+?)[>\s]", mail.part("plain")).group(1)
    page = client.get(path)
    assert page.status_code == 200
    assert Subscription.query.one().status == "unconfirmed"
    client.post(path, data={"csrf_token": csrf(page.text)})
    db.session.expire_all()
    assert Subscription.query.one().status == "confirmed"
    welcome = inbox.wait_for(2, recipient="ana@example.org")[1]
    assert welcome.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_single_opt_in_lists_confirm_at_once(client, make_list, inbox, worker):
    make_list(slug="open", opt_in="single")
    submit(client, "ana@example.org", slug="open")
    assert Subscription.query.one().status == "confirmed"
    mail = inbox.wait_for(1, recipient="ana@example.org")[0]
    assert mail.message["Subject"].startswith("Welcome")


@pytest.mark.slow
def test_a_repeated_request_does_not_flood_the_inbox(client, weekly, inbox, worker):
    for _ in range(3):
        submit(client, "ana@example.org")
    inbox.wait_for(1, recipient="ana@example.org")
    # A later request's mail arriving means the earlier ones were handled too.
    submit(client, "later@example.org")
    inbox.wait_for(1, recipient="later@example.org")
    assert len(inbox.to("ana@example.org")) == 1
    assert Subscription.query.count() == 2


def _token_for(app, purpose, subscription):
    return links.make(purpose, subscription.subscriber_id, subscription.list_id)


@pytest.fixture
def pending(app, weekly):
    return service.subscribe(weekly, "ana@example.org", "Ana")


@pytest.mark.parametrize("kind", ["confirm", "unsubscribe", "preferences"])
def test_forged_and_tampered_links_are_refused(client, pending, kind):
    good = _token_for(client.application, kind, pending)
    assert client.get(f"/{kind}/garbage").status_code == 400
    # The signature's first character, which holds six of its bits whole: its last one
    # holds a few bits that decoding drops, and changed there it can still be valid.
    at = good.rindex(".") + 1
    tampered = good[:at] + ("A" if good[at] != "A" else "B") + good[at + 1 :]
    assert client.get(f"/{kind}/{tampered}").status_code == 400
    forged = URLSafeTimedSerializer("other-key", salt=f"newsletter-{kind}").dumps([1, 1])
    assert client.get(f"/{kind}/{forged}").status_code == 400
    assert client.post(f"/{kind}/{forged}").status_code == 400


def test_a_link_for_one_purpose_does_not_work_for_another(client, pending):
    unsubscribe = _token_for(client.application, links.UNSUBSCRIBE, pending)
    assert client.get(f"/confirm/{unsubscribe}").status_code == 400


class EightDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 8 * 24 * 3600


def test_an_expired_confirmation_link_says_so(app, client, pending):
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="newsletter-confirm", signer=EightDaysAgo
    ).dumps([pending.subscriber_id, pending.list_id])
    answer = client.get(f"/confirm/{old}")
    assert answer.status_code == 410
    assert "expired" in answer.text
    assert Subscription.query.one().status == "unconfirmed"


class ThirteenMonthsAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 400 * 24 * 3600


def test_an_expired_link_says_how_long_links_work_as_configured(app, client, weekly):
    """It said "a week" whatever NEWSLETTER_CONFIRM_MAX_AGE was."""
    app.config["CONFIRM_MAX_AGE"] = 86400
    reader = service.subscribe(weekly, "en@example.org", "")
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="newsletter-confirm", signer=EightDaysAgo
    ).dumps([reader.subscriber_id, reader.list_id])
    assert "work for 1 day." in client.get(f"/confirm/{old}").text


@pytest.mark.parametrize(
    "kind, signer, english, persian",
    [
        ("confirm", EightDaysAgo, "work for 7 days", "تنها ۷ روز"),
        ("preferences", ThirteenMonthsAgo, "work for 365 days", "تنظیمات ۳۶۵ روز"),
    ],
)
def test_an_expired_link_says_what_to_do_in_the_reader_s_language(
    app, client, persian_list, weekly, kind, signer, english, persian
):
    """Each kind of link its own advice, in the language of the reader it was made for,
    whatever the browser's; with the list's subscribe page. A forged one says neither."""
    for mailing_list, words, language in ((weekly, english, "en"), (persian_list, persian, "fa")):
        reader = service.subscribe(mailing_list, f"{language}@example.org", "")
        old = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=f"newsletter-{kind}", signer=signer
        ).dumps([reader.subscriber_id, reader.list_id])
        answer = client.get(f"/{kind}/{old}", headers={"Accept-Language": "de"})
        assert answer.status_code == 410
        assert words in answer.text and f'lang="{language}"' in answer.text
        assert f'href="/subscribe/{mailing_list.slug}"' in answer.text
    assert "/subscribe/" not in client.get(f"/{kind}/{old[:-3]}abc").text


def test_an_old_unsubscribe_link_still_works(app, pending):
    service.confirm_subscription(pending)
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="newsletter-unsubscribe", signer=EightDaysAgo
    ).dumps([pending.subscriber_id, pending.list_id])
    answer = app.test_client().post(f"/unsubscribe/{old}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    db.session.expire_all()
    assert Subscription.query.one().status == "unsubscribed"


def test_one_click_unsubscribe_needs_no_cookie(app, pending):
    service.confirm_subscription(pending)
    token = _token_for(app, links.UNSUBSCRIBE, pending)
    stranger = app.test_client(use_cookies=False)
    answer = stranger.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    db.session.expire_all()
    subscription = Subscription.query.one()
    assert subscription.status == "unsubscribed"
    assert subscription.unsubscribe_reason == "one-click"


def test_opening_the_unsubscribe_link_does_not_unsubscribe(app, client, pending):
    service.confirm_subscription(pending)
    token = _token_for(app, links.UNSUBSCRIBE, pending)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert Subscription.query.one().status == "confirmed"


def test_preferences_change_name_and_lists(app, client, weekly, make_list, pending):
    other = make_list(slug="alerts", name="Alerts")
    service.confirm_subscription(pending)
    token = _token_for(app, links.PREFERENCES, pending)
    page = client.get(f"/preferences/{token}")
    assert "Alerts" in page.text
    saved = client.post(
        f"/preferences/{token}",
        data={"csrf_token": csrf(page.text), "name": "Ana <i>B</i>", "lists": [str(other.id)]},
    )
    assert saved.status_code == 200
    assert "Ana &lt;i&gt;B&lt;/i&gt;" in saved.text
    db.session.expire_all()
    states = {s.mailing_list.slug: s.status for s in Subscription.query}
    assert states == {"weekly": "unsubscribed", "alerts": "confirmed"}


@pytest.mark.slow
def test_the_subscribe_form_is_rate_limited_per_address(app, client, weekly):
    limiter.reset()
    app.config["SUBSCRIBE_RATE_LIMIT"] = "10 per minute"
    try:
        answers = [submit(client, f"r{i}@example.org").status_code for i in range(12)]
    finally:
        app.config["SUBSCRIBE_RATE_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert answers[:10] == [200] * 10
    assert answers[10:] == [429, 429]
    assert Subscriber.query.count() == 10


def test_blocklisted_addresses_get_the_same_answer_and_no_mail(client, weekly, inbox, worker):
    db.session.add(Subscriber(email="spam@example.org", status="blocklisted", attributes={}))
    db.session.commit()
    answer = submit(client, "spam@example.org")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    submit(client, "real@example.org")
    inbox.wait_for(1, recipient="real@example.org")
    assert inbox.to("spam@example.org") == []
    assert Subscription.query.count() == 1


@pytest.mark.slow
def test_every_notice_says_why_it_came_and_carries_the_postal_address(
    client, weekly, inbox, worker
):
    submit(client, "ana@example.org")
    [confirm] = inbox.wait_for(1)
    token = re.search(r"/confirm/([\w.-]+)", confirm.part("plain")).group(1)
    client.post(
        f"/confirm/{token}", data={"csrf_token": csrf(client.get(f"/confirm/{token}").text)}
    )
    welcome = inbox.wait_for(2)[1]
    unsubscribe = re.search(r"/unsubscribe/([\w.-]+)", welcome.part("plain")).group(1)
    client.post(f"/unsubscribe/{unsubscribe}")
    goodbye = inbox.wait_for(3)[2]
    reasons = ("Someone, probably you, entered", "because you subscribed", "because you left")
    for received, reason in zip((confirm, welcome, goodbye), reasons, strict=True):
        for subtype in ("plain", "html"):
            body = " ".join(received.part(subtype).split())
            assert reason in body and weekly.postal_address in body, (reason, subtype)


def test_a_test_email_s_links_say_what_they_open_for_readers_and_change_nothing(
    client, persian_list, inbox
):
    """Test emails' links name no reader: they answered "This link is not valid"."""
    from builders import confirmed_subscriber, draft

    from newsletter.sending.proofs import send_proof

    confirmed_subscriber(persian_list, "reader@example.org")
    assert send_proof(draft(persian_list), ["editor@example.org"]) == 1
    [mail] = inbox.messages
    found = re.findall(
        r"http://newsletter\.test(/(?:preferences|unsubscribe)/[^\s\"<>]+)", mail.part("html")
    )
    found.append(
        re.search(
            r"<http://newsletter\.test(/unsubscribe/[^>]+)>", mail.message["List-Unsubscribe"]
        ).group(1)
    )
    assert {path.split("/")[1] for path in found} == {"preferences", "unsubscribe"}
    for path in found:
        page = client.get(path, headers={"Accept-Language": "en"})
        assert page.status_code == 200 and "این یک ایمیل آزمایشی است" in page.text, path
    one_click = client.post(found[-1], data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert Subscription.query.one().status == "confirmed"
