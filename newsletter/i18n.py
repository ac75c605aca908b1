"""The languages subscribers can read us in, which way each is written, and dates and numbers
as each writes them (Persian digits and month names, Solar Hijri dates as a list's option).

Which language a page or email is in: the subscriber's own (their preferences), else their
list's, else English. Pages say whose it is with `use_locale`; emails built outside a request
render inside `flask_babel.force_locale(locale_for(...))`. The admin stays English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.numbers import format_decimal
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, gettext, refresh
from markupsafe import Markup

from newsletter import jalali
from newsletter.statuses import Calendar

# Complete catalogs exist for these (newsletter/translations/).
LOCALES = ("en", "fa")
DEFAULT_LOCALE = "en"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                 "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")  # fmt: skip

babel = Babel()


def direction(locale: str | None) -> str:
    return "rtl" if (locale or "").replace("-", "_").split("_")[0] in RIGHT_TO_LEFT else "ltr"


def supported(choice: str | None) -> str | None:
    """The language of ours that a code names ("fa", "fa_IR", "fa-IR"), else None."""
    language = (choice or "").replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else None


def locale_for(subscriber=None, mailing_list=None) -> str:
    """The subscriber's own language, else their list's, else English."""
    own = supported(subscriber.locale) if subscriber is not None else None
    listed = supported(mailing_list.language) if mailing_list is not None else None
    return own or listed or DEFAULT_LOCALE


@contextmanager
def in_language_of(mailing_list) -> Iterator[str]:
    """Words translated in the list's language, outside a reader's request (a subject, a
    snippet, a preview); gives the locale, for what else follows it."""
    locale = locale_for(mailing_list=mailing_list)
    with force_locale(locale):
        yield locale


def use_locale(subscriber=None, mailing_list=None) -> str:
    """This request's pages speak the language of this subscriber or list."""
    g.reader_locale = locale_for(subscriber, mailing_list)
    refresh()  # anything translated before now was in the request's first guess
    return g.reader_locale


# Pages in English only: the admin, and the development outbox (it said lang="fa" dir="rtl"
# over its English to a Persian browser).
ENGLISH_ONLY = ("/admin", "/outbox")


def _select_locale() -> str:
    if not has_request_context() or request.path.startswith(ENGLISH_ONLY):
        return DEFAULT_LOCALE
    chosen = g.get("reader_locale")
    # Pages that belong to no list (home, a broken link) follow the browser.
    return chosen or request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def _forget_locale() -> None:
    # Flask-Babel keeps its choice in g, which outlives a request where an app context is
    # shared (tests, a CLI command making requests): each request chooses afresh.
    g.pop("reader_locale", None)
    refresh()


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def digits(text: str, locale: str) -> str:
    return text.translate(PERSIAN_DIGITS) if locale == "fa" else text


def format_number(value: int | float, locale: str, grouped: bool = True) -> str:
    """1٬234 in Persian digits, 1,234 in English; an issue's number is not grouped."""
    text = format_decimal(value, locale=locale, group_separator=grouped, numbering_system="default")
    return digits(text, locale)


def format_date(
    value: date | datetime,
    locale: str,
    calendar: str = Calendar.GREGORIAN,
    zone: str | None = None,
) -> str:
    """A day as the language writes it: "March 20, 2024", "۲۰ مارس ۲۰۲۴" or, on a Solar
    Hijri list, "۱ فروردین ۱۴۰۳". English is always Gregorian. A datetime is read in `zone`.
    A day past the Solar Hijri arithmetic's reach (before 622 or after 3798: a post dated so
    through the API) is Gregorian too, rather than no page at all."""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(zone)).date()
    if locale == "fa" and calendar == Calendar.PERSIAN:
        try:
            year, month, day = jalali.to_jalali(value)
        except ValueError:
            pass
        else:
            return digits(f"{day} {JALALI_MONTHS[month - 1]} {year}", locale)
    return digits(babel_date(value, "long", locale=locale), locale)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):  # a name this machine's zone data lacks
        return ZoneInfo("UTC")


def _local_date(value, mailing_list=None) -> str:
    if not isinstance(value, date):  # None, or nothing at all in a template's dry run
        return ""
    calendar = mailing_list.calendar if mailing_list is not None else Calendar.GREGORIAN
    zone = mailing_list.timezone if mailing_list is not None else None
    return format_date(value, current_locale(), calendar, zone)


def _local_number(value, grouped: bool = True) -> str:
    if not isinstance(value, int | float):
        return digits(str(value), current_locale())
    return format_number(value, current_locale(), grouped)


def separator() -> str:
    """What stands between two facts on a line ("Issue 1 · March 20, 2024") or two links: a
    middle dot in English; in Persian a dot reads as the digit zero (۰), so a dash: its
    comma, glued to a Latin source's last word ("Reuters،"), made one word of two scripts,
    which SpamAssassin counts as HTML obfuscation (0.6 points)."""
    return gettext(" · ")


def language_attribute(language: str | None) -> Markup:
    """` lang="…"` for words in another language than the page's (a list's name in its own
    language), so a screen reader reads them in their own voice; nothing for the page's."""
    if not language or language == current_locale():
        return Markup("")
    return Markup(' lang="{}"').format(language)


def isolate(text: str, language: str | None = None) -> Markup:
    """Someone's text (a name, a title) inside a sentence: set apart, so a Persian name in an
    English line, or the reverse, keeps its own direction and leaves the line's alone; with
    its language when that is known and not the page's."""
    return Markup('<bdi dir="auto"{}>{}</bdi>').format(language_attribute(language), text)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_select_locale)
    app.before_request(_forget_locale)
    # {% trans %} blocks read as one line, as the catalogs (babel.cfg) hold them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_global(current_locale)
    app.add_template_global(lambda: direction(current_locale()), "text_direction")
    app.add_template_filter(_local_date, "local_date")
    app.add_template_filter(isolate, "bdi")
    app.add_template_global(language_attribute, "lang_of")
    app.add_template_global(separator)
    app.add_template_filter(_local_number, "local_number")
