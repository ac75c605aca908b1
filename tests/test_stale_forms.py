"""A public form whose security token (CSRF) is missing or too old: a page left open past
the token's day, a browser that keeps no cookie of ours. The reader gets the same page again
in their list's language, with what they typed and a fresh token, saying what happened;
nothing is done, and sending it again works. It was a bare English "Bad request"."""

from __future__ import annotations

import time

import pytest
from builders import csrf
from itsdangerous import TimestampSigner

from newsletter import links
from newsletter.models import Subscriber, Subscription
from newsletter.subscriptions import service

STALE_FA = "این صفحه بیش از اندازه باز مانده بود"
STALE_EN = "This page was open too long"


def later(monkeypatch, hours: float) -> None:
    """Tokens read from now on are read as if `hours` had passed since they were made."""
    now = int(time.time() + hours * 3600)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now)


def test_a_subscribe_form_sent_without_our_cookie_comes_back_in_persian_with_what_was_typed(
    app, persian_list
):
    with app.test_client() as first:
        token = csrf(first.get(f"/subscribe/{persian_list.slug}").text)
    form = {"email": "sara@example.org", "name": "سارا 🌷", "csrf_token": token}
    with app.test_client() as cookieless:  # another browser: the token is not its session's
        answer = cookieless.post(
            f"/subscribe/{persian_list.slug}", data=form, headers={"Accept-Language": "en"}
        )
        assert answer.status_code == 400
        assert 'lang="fa"' in answer.text and STALE_FA in answer.text
        assert 'value="sara@example.org"' in answer.text and "سارا 🌷" in answer.text
        assert Subscriber.query.count() == 0
        again = cookieless.post(
            f"/subscribe/{persian_list.slug}", data=form | {"csrf_token": csrf(answer.text)}
        )
        assert again.status_code == 200
        assert Subscriber.query.one().email == "sara@example.org"


@pytest.mark.parametrize("hours, status", [(23, 200), (25, 400)])
def test_a_form_s_token_lasts_a_day(client, weekly, monkeypatch, hours, status):
    token = csrf(client.get("/subscribe/weekly").text)
    later(monkeypatch, hours)
    answer = client.post(
        "/subscribe/weekly", data={"email": "ana@example.org", "csrf_token": token}
    )
    assert answer.status_code == status
    assert (STALE_EN in answer.text) == (status == 400)


def test_a_confirm_button_on_a_page_left_open_still_confirms(client, persian_list):
    """Its signed link is the proof, not the page's form token: a reader who pressed the
    button a day later got a page saying the form was too old."""
    pending = service.subscribe(persian_list, "sara@example.org", "")
    path = "/confirm/" + links.make(links.CONFIRM, pending.subscriber_id, pending.list_id)
    answer = client.post(path, data={"csrf_token": "stale"})
    assert answer.status_code == 200 and STALE_FA not in answer.text
    assert Subscription.query.one().status == "confirmed"


def test_stale_preferences_change_nothing(client, persian_list):
    reader = service.subscribe(persian_list, "sara@example.org", "سارا")
    path = "/preferences/" + links.make(links.PREFERENCES, reader.subscriber_id, reader.list_id)
    answer = client.post(path, data={"name": "someone else", "csrf_token": "stale"})
    assert answer.status_code == 400 and STALE_FA in answer.text
    assert Subscriber.query.one().name == "سارا"


@pytest.mark.parametrize("path", ["/confirm/garbage", "/preferences/garbage", "/subscribe/nope"])
def test_a_stale_form_at_a_broken_address_gets_that_address_s_answer(client, weekly, path):
    answer = client.post(path, data={"csrf_token": "stale"})
    assert answer.status_code in (400, 404)
    assert "Something went wrong" not in answer.text
