"""Every subscriber in their own language: pages and emails in the subscriber's language,
else the list's; Persian written right to left with Persian digits and month names, Solar
Hijri dates on lists that ask for them; people's and feeds' text in its own direction."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from builders import csrf
from hypothesis import given
from hypothesis import strategies as st

from newsletter import i18n, jalali, links
from newsletter.digest import render
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Issue, Post, Subscriber, Subscription
from newsletter.statuses import IssueStatus
from newsletter.subscriptions import notices

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "newsletter" / "translations"
PAGES = ["base", "home", "subscribe", "subscribed", "confirm", "confirmed", "unsubscribe",
         "unsubscribed", "preferences", "link_error", "error", "archive/index",
         "embed_check_address", "erase_data", "data_erased", "data_gone",
         "data_download"]  # fmt: skip
EMAILS = ["layout", "digest", "confirm", "welcome", "goodbye", "invitation", "own_data", "data",
          "erase"]  # fmt: skip
READER_TEMPLATES = [ROOT / "newsletter" / "templates" / f"{name}.html" for name in PAGES] + [
    ROOT / "templates" / "email" / f"{name}.html" for name in EMAILS
]
PERSIAN_DIGIT = re.compile("[۰-۹]")
MIXED_TITLE = "گزارش Reuters: تحریم‌های جدید EU علیه ایران"


# --- The Solar Hijri calendar ------------------------------------------------------------


@pytest.mark.parametrize(
    "year, nowruz",
    [
        (1354, date(1975, 3, 21)),
        (1395, date(2016, 3, 20)),
        (1399, date(2020, 3, 20)),
        (1400, date(2021, 3, 21)),
        (1402, date(2023, 3, 21)),
        (1403, date(2024, 3, 20)),
        (1404, date(2025, 3, 21)),
        (1405, date(2026, 3, 21)),
    ],
)
def test_nowruz_falls_where_irans_calendar_puts_it(year, nowruz):
    assert jalali.from_jalali(year, 1, 1) == nowruz
    assert jalali.to_jalali(nowruz) == (year, 1, 1)
    assert jalali.to_jalali(nowruz - timedelta(days=1))[0] == year - 1


def test_known_days_and_leap_years():
    assert jalali.to_jalali(date(2026, 12, 2)) == (1405, 9, 11)
    assert jalali.to_jalali(date(1979, 2, 11)) == (1357, 11, 22)
    assert jalali.is_leap(1399) and jalali.is_leap(1403) and not jalali.is_leap(1404)
    assert jalali.to_jalali(date(2025, 3, 20)) == (1403, 12, 30)  # Esfand 30 of a leap year
    with pytest.raises(ValueError):
        jalali.from_jalali(1404, 12, 30)


DAYS = st.dates(min_value=date(700, 1, 1), max_value=date(3700, 12, 31))


@given(DAYS)
def test_every_day_goes_there_and_back(day):
    year, month, number = jalali.to_jalali(day)
    assert 1 <= month <= 12 and 1 <= number <= jalali.month_length(year, month)
    assert jalali.from_jalali(year, month, number) == day


@given(DAYS)
def test_the_next_day_is_the_next_jalali_day(day):
    year, month, number = jalali.to_jalali(day)
    following = jalali.to_jalali(day + timedelta(days=1))
    if number < jalali.month_length(year, month):
        assert following == (year, month, number + 1)
    elif month < 12:
        assert following == (year, month + 1, 1)
    else:
        assert following == (year + 1, 1, 1)


@given(st.integers(min_value=80, max_value=3100))
def test_a_year_has_365_or_366_days(year):
    length = (jalali.new_year(year + 1) - jalali.new_year(year)).days
    assert length == (366 if jalali.is_leap(year) else 365)


# --- Dates and numbers as each language writes them ----------------------------------------


def test_dates_in_english_persian_and_solar_hijri():
    nowruz = date(2024, 3, 20)
    assert i18n.format_date(nowruz, "en") == "March 20, 2024"
    assert i18n.format_date(nowruz, "fa") == "۲۰ مارس ۲۰۲۴"
    assert i18n.format_date(nowruz, "fa", "persian") == "۱ فروردین ۱۴۰۳"
    assert i18n.format_date(date(2026, 12, 2), "fa", "persian") == "۱۱ آذر ۱۴۰۵"
    # English readers of a Solar Hijri list read Gregorian dates.
    assert i18n.format_date(nowruz, "en", "persian") == "March 20, 2024"


def test_a_moment_is_dated_in_the_lists_zone():
    evening = datetime(2024, 3, 19, 21, 0, tzinfo=UTC)  # already the 20th in Tehran
    assert i18n.format_date(evening, "fa", "persian", "Asia/Tehran") == "۱ فروردین ۱۴۰۳"
    assert i18n.format_date(evening, "fa", "persian", "UTC") == "۲۹ اسفند ۱۴۰۲"
    assert i18n.format_date(evening, "en", zone="No/Such_Zone") == "March 19, 2024"


def test_persian_digits():
    assert i18n.digits("Issue 1403, 12:30", "fa") == "Issue ۱۴۰۳, ۱۲:۳۰"
    assert i18n.digits("1403", "en") == "1403"
    assert i18n.format_number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert i18n.format_number(1234567, "en") == "1,234,567"
    assert i18n.format_number(1405, "fa", grouped=False) == "۱۴۰۵"


def test_the_subscribers_language_wins_over_the_lists():
    persian, english = SimpleNamespace(language="fa"), SimpleNamespace(language="en")
    assert i18n.locale_for(SimpleNamespace(locale=None), persian) == "fa"
    assert i18n.locale_for(SimpleNamespace(locale="en"), persian) == "en"
    assert i18n.locale_for(SimpleNamespace(locale="fa"), english) == "fa"
    # Languages we have no catalog for fall back to the list's, then English.
    assert i18n.locale_for(SimpleNamespace(locale="xx"), SimpleNamespace(language="de")) == "en"
    assert i18n.supported("fa-IR") == "fa" and i18n.direction("fa") == "rtl"


# --- The catalogs ---------------------------------------------------------------------------


def _catalog(locale: str):
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source)


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s", text))


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_has_a_translation_with_the_same_placeholders(locale):
    catalog = _catalog(locale)
    messages = [message for message in catalog if message.id]
    assert len(messages) > 80
    for message in messages:
        for string in _strings(message):
            assert string, message.id
            assert _placeholders(string) == _placeholders(_singular(message)), message.id
        assert "fuzzy" not in message.flags, message.id


def _strings(message) -> tuple[str, ...]:
    """A message's translations: one, or one per plural form (ngettext's)."""
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _singular(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_the_persian_catalog_is_persian():
    for message in _catalog("fa"):
        if not message.id:
            continue
        for string in _strings(message):
            words = re.sub(r"<[^>]+>|%\(\w+\)s|RSS|API|newsletter lists create", "", string)
            assert not re.search("[A-Za-z]", words), message.id
            if re.search("[A-Za-z]", _singular(message)):  # words, not a separator's
                assert re.search("[\u0600-\u06ff]", words), message.id


@pytest.mark.slow
def test_every_string_in_the_code_is_in_the_catalogs():
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    assert len(found) > 80
    for locale in i18n.LOCALES:
        catalog = _catalog(locale)
        assert not [text for text in found if catalog.get(text) is None], locale


def _literal_text(template: str) -> str:
    """What a template shows outside gettext: trans blocks, Jinja, tags, styles removed."""
    for pattern in (
        r"{%-? trans\b.*?endtrans -?%}",
        r"<style.*?</style>",
        r"<script.*?</script>",
        r"{#.*?#}",
        r"{%.*?%}",
        r"{{.*?}}",
        r"<[^>]*>",
        r"&\w+;",
    ):
        template = re.sub(pattern, " ", template, flags=re.S)
    return template


@pytest.mark.parametrize("path", READER_TEMPLATES, ids=lambda path: path.name)
def test_no_subscriber_facing_template_shows_english_outside_gettext(path):
    leftover = _literal_text(path.read_text())
    assert not re.findall(r"[A-Za-z]{2,}", leftover), path


# --- Pages ---------------------------------------------------------------------------------


def _member(mailing_list, status="confirmed", locale=None, name="مریم حسینی‌زاده"):
    subscriber = Subscriber(email="maryam@example.org", name=name, attributes={}, locale=locale)
    subscription = Subscription(list_id=mailing_list.id, status=status)
    subscriber.subscriptions.append(subscription)
    db.session.add(subscriber)
    db.session.commit()
    return subscription


def _path(purpose, subscription) -> str:
    version = subscription.version if purpose == links.CONFIRM else None
    token = links.make(purpose, subscription.subscriber_id, subscription.list_id, version)
    return f"/{purpose}/{token}"


def _is_persian_page(html: str) -> None:
    assert '<html lang="fa" dir="rtl">' in html
    assert not re.search(r">\s*(Subscribe|Unsubscribe|Your preferences|Confirm)\b", html)


def test_a_persian_lists_subscribe_page(client, persian_list):
    page = client.get("/subscribe/interlink").text
    _is_persian_page(page)
    assert "عضویت در «" in page and "نشانی ایمیل" in page
    assert '<bdi dir="auto">ایران اینترلینک — Weekly</bdi>' in page
    assert '<p class="lead" dir="auto">گزیدهٔ هفتگی' in page
    assert 'name="time_zone"' in page and "time_zone.js" in page


def test_the_subscribe_form_keeps_the_browsers_time_zone_when_it_is_real(client, persian_list):
    for email, zone in (("a@example.org", "Asia/Tehran"), ("b@example.org", "Mars/Olympus")):
        form = client.get("/subscribe/interlink")
        answer = client.post(
            "/subscribe/interlink",
            data={"email": email, "time_zone": zone, "csrf_token": csrf(form.text)},
        )
        assert answer.status_code == 200
        _is_persian_page(answer.text)
        assert "صندوق ایمیل خود را ببینید" in answer.text
    zones = {s.email: s.timezone for s in Subscriber.query}
    assert zones == {"a@example.org": "Asia/Tehran", "b@example.org": None}


def test_a_bad_address_is_refused_in_persian(client, persian_list):
    form = client.get("/subscribe/interlink")
    answer = client.post(
        "/subscribe/interlink", data={"email": "نه", "csrf_token": csrf(form.text)}
    )
    assert answer.status_code == 400
    assert "لطفاً یک نشانی ایمیل معتبر وارد کنید." in answer.text


@pytest.mark.slow
def test_persian_confirm_unsubscribe_and_preferences_pages(client, persian_list):
    pending = _member(persian_list, status="unconfirmed")
    confirm = client.get(_path(links.CONFIRM, pending)).text
    _is_persian_page(confirm)
    assert "تأیید عضویت" in confirm and "بله، عضو می‌شوم" in confirm
    done = client.post(_path(links.CONFIRM, pending), data={"csrf_token": csrf(confirm)}).text
    assert "عضویت شما تأیید شد" in done
    unsubscribe = client.get(_path(links.UNSUBSCRIBE, pending)).text
    _is_persian_page(unsubscribe)
    assert "لغو اشتراک" in unsubscribe
    preferences = client.get(_path(links.PREFERENCES, pending)).text
    _is_persian_page(preferences)
    assert "تنظیمات شما" in preferences and '<option value="fa" lang="fa"' in preferences
    left = client.post(_path(links.UNSUBSCRIBE, pending)).text
    _is_persian_page(left)
    assert "اشتراک شما در «" in left


def test_an_english_subscriber_of_a_persian_list_reads_english(client, persian_list):
    english = _member(persian_list, locale="en", name="Ana")
    for purpose in (links.UNSUBSCRIBE, links.PREFERENCES):
        page = client.get(_path(purpose, english)).text
        assert '<html lang="en" dir="ltr">' in page
        assert "لغو اشتراک" not in page and "تنظیمات" not in page
    page = client.get(_path(links.UNSUBSCRIBE, english)).text
    assert 'Unsubscribe from <bdi dir="auto" lang="fa">ایران اینترلینک — Weekly</bdi>' in page


def test_a_broken_link_follows_the_browsers_language(client):
    answer = client.get("/confirm/nonsense", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert answer.status_code == 400
    _is_persian_page(answer.text)
    assert "این پیوند معتبر نیست." in answer.text
    assert '<html lang="en"' in client.get("/confirm/nonsense").text


def test_error_pages_speak_the_subscribers_language_and_the_admin_stays_english(client):
    persian = {"Accept-Language": "fa"}
    missing = client.get("/no-such-page", headers=persian)
    assert missing.status_code == 404 and "صفحه پیدا نشد" in missing.text
    admin = client.get("/admin/no-such-page", headers=persian)
    assert admin.status_code == 404 and '<html lang="en" dir="ltr">' in admin.text
    assert "Page not found" in admin.text


# --- Preferences ----------------------------------------------------------------------------


def test_preferences_choose_language_time_zone_and_delivery(client, persian_list, make_list):
    each = make_list(slug="posts", name="Every post", each_post=True)
    subscription = _member(persian_list)
    db.session.add(Subscription(subscriber_id=subscription.subscriber_id, list_id=each.id,
                                status="confirmed"))  # fmt: skip
    db.session.commit()
    path = _path(links.PREFERENCES, subscription)
    page = client.get(path).text
    assert f'name="delivery-{each.id}"' in page
    assert f'name="delivery-{persian_list.id}"' not in page  # it sends only its digest
    answer = client.post(
        path,
        data={
            "csrf_token": csrf(page),
            "name": "Maryam",
            "locale": "en",
            "time_zone": "Europe/London",
            "lists": [str(persian_list.id), str(each.id)],
            f"delivery-{each.id}": "both",
        },
    )
    assert answer.status_code == 200
    assert '<html lang="en" dir="ltr">' in answer.text  # the new language at once
    assert "Your preferences are saved." in answer.text
    db.session.expire_all()
    subscriber = db.session.get(Subscriber, subscription.subscriber_id)
    assert (subscriber.name, subscriber.locale, subscriber.timezone) == (
        "Maryam",
        "en",
        "Europe/London",
    )
    assert {s.list_id: s.delivery for s in subscriber.subscriptions}[each.id] == "both"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("time_zone", "Mars/Olympus", "لطفاً منطقهٔ زمانی را از فهرست انتخاب کنید."),
        ("locale", "klingon", "لطفاً زبان را از فهرست انتخاب کنید."),
        ("delivery", "each", "این خبرنامه فقط گزیدهٔ خبرهایش را می‌فرستد."),
        # A value no form offers, posted by hand: not taken for "digest only"
        ("delivery", "weekly!", "لطفاً شیوهٔ دریافت را از فهرست انتخاب کنید."),
    ],
)
def test_a_bad_preference_is_refused_and_nothing_is_saved(
    client, persian_list, field, value, message
):
    subscription = _member(persian_list)
    path = _path(links.PREFERENCES, subscription)
    data = {"csrf_token": csrf(client.get(path).text), "name": "Changed"}
    if field == "delivery":
        data[f"delivery-{persian_list.id}"] = value
    else:
        data[field] = value
    answer = client.post(path, data=data)
    assert answer.status_code == 400
    assert message in answer.text
    db.session.expire_all()
    subscriber = db.session.get(Subscriber, subscription.subscriber_id)
    assert subscriber.name == "مریم حسینی‌زاده" and subscriber.timezone is None
    assert subscriber.subscriptions[0].delivery == "digest"


# --- Emails ---------------------------------------------------------------------------------


def _notice(kind, subscription):
    built = notices.build_notice(kind, subscription.id)
    message = message_from_bytes(built.message, policy=policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return message, html, text


@pytest.mark.parametrize(
    "kind, status, subject, words",
    [
        ("confirm", "unconfirmed", "لطفاً عضویت خود را در «", "عضویتم را تأیید می‌کنم"),
        ("welcome", "confirmed", "به «", "با پیوندهای زیر"),
        ("goodbye", "unsubscribed", "اشتراک شما در «", "دوباره عضو شوید"),
    ],
)
def test_the_joining_emails_of_a_persian_list_are_persian(
    app, persian_list, kind, status, subject, words
):
    message, html, text = _notice(kind, _member(persian_list, status=status))
    assert message["Subject"].startswith(subject)
    assert "ایران اینترلینک — Weekly" in message["Subject"]
    assert '<html lang="fa" dir="rtl">' in html
    assert words in html and words in text
    assert "سلام" in text and "Hello" not in text


@pytest.mark.parametrize("kind, status", [("confirm", "unconfirmed"), ("goodbye", "unsubscribed")])
def test_an_english_subscriber_gets_english_emails_from_a_persian_list(
    app, persian_list, kind, status
):
    message, html, text = _notice(kind, _member(persian_list, status=status, locale="en"))
    assert '<html lang="en" dir="ltr">' in html
    assert message["Subject"] in (
        "Please confirm your subscription to ایران اینترلینک — Weekly",
        "You have left ایران اینترلینک — Weekly",
    )
    assert "Hello" in text


@pytest.mark.parametrize(
    "name, list_name",
    [
        ("مریم حسینی‌زاده", "خبرنامهٔ هفتگی «گزیده»"),
        ("عبدالله الحسيني", "النشرة الأسبوعية"),
        ("王小明", "每周新闻摘要"),
        ("Ana 📰 Reader", "Weekly 🗞️ Digest — ایران"),
    ],
)
def test_names_in_any_script_survive_in_headers_and_bodies(app, make_list, name, list_name):
    mailing_list = make_list(name=list_name, language="fa", direction="rtl")
    message, html, text = _notice("welcome", _member(mailing_list, name=name))
    assert list_name in message["Subject"]
    assert message["To"].addresses[0].display_name == name
    assert f'<bdi dir="auto">{name}</bdi>' in html
    assert name in text and list_name in text


def _sent_issue(mailing_list, **post):
    fields = {
        "title": MIXED_TITLE,
        "url": "https://example.org/1",
        "source": "Reuters",
        "excerpt": "خلاصه‌ای از خبر",
        "published_at": datetime(2024, 3, 18, tzinfo=UTC),
    }
    db.session.add(Post(list_id=mailing_list.id, guid="p1", **(fields | post)))
    db.session.commit()
    issue = compose_issue(
        mailing_list,
        datetime(2024, 3, 10, tzinfo=UTC),
        datetime(2024, 3, 19, tzinfo=UTC),
        subject="گزیدهٔ هفته: Iran & the EU",
    )
    issue.status, issue.started_at = IssueStatus.SENDING, datetime(2024, 3, 20, 5, tzinfo=UTC)
    db.session.commit()
    return issue


def test_the_digest_chrome_is_in_the_lists_language_or_the_one_asked_for(app, persian_list):
    issue = _sent_issue(persian_list)
    html, text = render.render_issue(issue)
    assert '<html lang="fa" dir="rtl">' in html
    assert "شمارهٔ ۱ – ۱ فروردین ۱۴۰۳" in text  # the send date, Solar Hijri
    assert "۲۸ اسفند ۱۴۰۲" in text  # the post's own date
    assert "لغو اشتراک" in text and "Unsubscribe" not in text
    assert re.search(r'<h2 dir="auto"[^>]*><a [^>]*>' + MIXED_TITLE, html)
    assert re.search(r'<p class="excerpt" dir="auto"', html)
    english, english_text = render.render_issue(issue, "en")
    assert '<html lang="en" dir="ltr">' in english
    assert "Issue 1 · March 20, 2024" in english_text and "Unsubscribe" in english_text
    assert MIXED_TITLE in english_text


def test_a_persian_gregorian_list_uses_persian_digits_and_month_names(app, make_list):
    mailing_list = make_list(language="fa", direction="rtl", calendar="gregorian")
    _html, text = render.render_issue(_sent_issue(mailing_list))
    assert "شمارهٔ ۱ – ۲۰ مارس ۲۰۲۴" in text
    assert not re.search(r"\b20(19|24)\b", text.split("http")[0])


def test_the_archive_shows_one_date_per_issue_in_the_lists_calendar(client, persian_list):
    _sent_issue(persian_list)
    index = client.get("/archive/interlink").text
    _is_persian_page(index)
    assert "شمارهٔ ۱ – ۱ فروردین ۱۴۰۳" in index
    assert '<a href="/archive/interlink/1" dir="auto">گزیدهٔ هفته: Iran &amp; the EU</a>' in index
    page = client.get("/archive/interlink/1").text
    assert '<html lang="fa" dir="rtl">' in page
    assert page.count("۱۴۰۳") == 1 and "۲۸ اسفند ۱۴۰۲" in page  # one issue date, one post date
    assert 'dir="auto"' in page and PERSIAN_DIGIT.search(page)
    assert Issue.query.count() == 1


def test_names_with_markup_stay_text_in_translated_sentences(client, make_list):
    make_list(slug="x", name="<script>alert(1)</script> خبر", language="fa", direction="rtl")
    page = client.get("/subscribe/x").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; خبر" in page
