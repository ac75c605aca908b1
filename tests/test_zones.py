"""The time zones offered and taken: none that names no place ("localtime", this machine's
own zone, and "Factory"), which the preferences page offered and the forms stored."""

from __future__ import annotations

import pytest
from builders import csrf

from newsletter import links, zones
from newsletter.models import Subscriber
from newsletter.subscriptions import service


def test_every_offered_zone_names_a_place_and_the_usual_ones_are_there():
    offered = zones.offered()
    assert {"Asia/Tehran", "Europe/London", "America/Los_Angeles", "UTC"} <= set(offered)
    assert not {"localtime", "Factory", "Iran", "US/Pacific", "Etc/GMT+3"} & set(offered)
    assert len(offered) == len(set(offered)) > 300


@pytest.mark.parametrize("zone", ["localtime", "Factory", "Mars/Olympus", "posixrules"])
def test_a_zone_that_names_no_place_is_refused_by_preferences_and_ignored_by_subscribing(
    client, weekly, zone
):
    reader = service.subscribe(weekly, "ana@example.org", "", time_zone=zone)
    assert Subscriber.query.one().timezone is None
    path = "/preferences/" + links.make(links.PREFERENCES, reader.subscriber_id, weekly.id)
    form = csrf(client.get(path).text)
    answer = client.post(path, data={"csrf_token": form, "time_zone": zone, "lists": weekly.id})
    assert answer.status_code == 400
    assert Subscriber.query.one().timezone is None


def test_an_alias_a_reader_already_has_is_shown_chosen_and_kept_on_saving(client, weekly):
    reader = service.subscribe(weekly, "ana@example.org", "", time_zone="Iran")
    assert Subscriber.query.one().timezone == "Iran"
    path = "/preferences/" + links.make(links.PREFERENCES, reader.subscriber_id, weekly.id)
    page = client.get(path).text
    assert '<option value="Iran" selected>' in page
    saved = client.post(
        path, data={"csrf_token": csrf(page), "time_zone": "Iran", "lists": weekly.id}
    )
    assert saved.status_code == 200
    assert Subscriber.query.one().timezone == "Iran"


@pytest.mark.parametrize(
    "language, tehran, buenos_aires",
    [
        ("en", "Iran Time (UTC+03:30)", "Argentina (Buenos Aires) Time (UTC-03:00)"),
        ("fa", "وقت ایران (UTC+۰۳:۳۰)", "وقت آرژانتین (بوئنوس\u200cآیرس) (UTC-۰۳:۰۰)"),
    ],
)
def test_zones_are_named_in_the_readers_language_by_their_offset(
    client, persian_list, language, tehran, buenos_aires
):
    """The page listed 490 names such as "Asia/Tehran", in English on a Persian page, in
    alphabetical order, a place's older names beside its own."""
    reader = service.subscribe(persian_list, "ana@example.org", "")
    reader.subscriber.locale = language
    path = "/preferences/" + links.make(links.PREFERENCES, reader.subscriber_id, persian_list.id)
    page = client.get(path).text
    assert f'<option value="Asia/Tehran" >{tehran}</option>' in page
    assert f'<option value="America/Argentina/Buenos_Aires" >{buenos_aires}</option>' in page
    assert 'value="America/Buenos_Aires"' not in page  # its older name
    assert f"({tehran})</option>" in page  # the list's own zone, named the same way
    shown = [name for name, _ in zones.choices(language)]
    assert (
        shown.index("Pacific/Pago_Pago")
        < shown.index("Asia/Tehran")
        < shown.index("Pacific/Kiritimati")
    )


def test_a_readers_older_zone_name_is_still_offered_chosen(client, weekly):
    reader = service.subscribe(weekly, "ana@example.org", "", time_zone="America/Buenos_Aires")
    path = "/preferences/" + links.make(links.PREFERENCES, reader.subscriber_id, weekly.id)
    page = client.get(path).text
    assert '<option value="America/Buenos_Aires" selected>' in page
