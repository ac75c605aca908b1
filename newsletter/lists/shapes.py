"""What a new list and a change to a list may hold: the one set of field rules that the admin's
forms and the API's bodies are both checked against."""

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from newsletter import zones
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.fields import OneLine, Slug, one_line
from newsletter.i18n import LOCALES, supported


def _email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalise_email(value)
    except InvalidEmail as exc:
        raise ValueError(str(exc)) from exc


# How many addresses the embed form may send people back to: a few pages of one site.
RETURN_URLS_MAX = 20


def _return_url(line: str) -> str:
    """One of embed_return_urls: an http(s) address whose path the return URL must start with."""
    try:
        parts = urlsplit(line)
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.query
        or parts.fragment
        or any(c.isspace() or c == "\\" for c in line)
        or len(line) > 2000
    ):
        raise ValueError(f"not an http(s) address without ?query or #fragment: {line[:100]}")
    return line


class ListChanges(BaseModel):
    name: OneLine | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    from_email: str | None = None
    from_name: one_line(200) | None = None
    reply_to: str | None = None
    opt_in: str | None = Field(None, pattern="^(double|single)$")
    public: bool | None = None
    send_weekday: int | None = Field(None, ge=0, le=6)
    send_time: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str | None = None
    language: str | None = Field(None, max_length=16)
    direction: str | None = Field(None, pattern="^(ltr|rtl)$")
    footer: str | None = Field(None, max_length=5000)
    postal_address: str | None = Field(None, max_length=1000)
    # Where the embed form may send people back to: URL prefixes, one a line.
    embed_return_urls: str | None = None
    autopilot: bool | None = None
    autopilot_send: bool | None = None
    calendar: str | None = Field(None, pattern="^(gregorian|persian)$")
    # Each post on its own, this many minutes after it is first seen (a day at most).
    each_post: bool | None = None
    each_post_hold: int | None = Field(None, ge=0, le=1440)
    # Analytics: clicks counted per link (on by default), opens, and who clicked what.
    track_clicks: bool | None = None
    track_opens: bool | None = None
    track_subscribers: bool | None = None

    _emails = field_validator("from_email", "reply_to")(_email)

    @field_validator("postal_address")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("required: every email shows it, as anti-spam laws ask")
        return value and value.strip()

    @field_validator("embed_return_urls")
    @classmethod
    def _return_urls(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        if len(lines) > RETURN_URLS_MAX:
            raise ValueError(f"at most {RETURN_URLS_MAX} addresses")
        return "\n".join(_return_url(line) for line in lines)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        """One we have the pages and emails in ("fa-IR" is "fa"): another read as English."""
        if value is None:
            return None
        if supported(value) is None:
            raise ValueError(
                f"one of {', '.join(LOCALES)}: readers' pages and emails exist in those"
            )
        return supported(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not zones.valid(value):
            raise ValueError("not a time zone name such as Europe/London")
        return value


class NewList(ListChanges):
    slug: Slug
    name: OneLine = Field(min_length=1, max_length=200)
    # Required and not empty: an empty one would be read as "not given".
    from_email: str = Field(min_length=1)
