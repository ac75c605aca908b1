"""What a new list and a change to a list may hold: the one set of field rules that the admin's
forms and the API's bodies are both checked against."""

from zoneinfo import available_timezones

from pydantic import BaseModel, Field, field_validator

from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.fields import OneLine, Slug


def _email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalise_email(value)
    except InvalidEmail as exc:
        raise ValueError(str(exc)) from exc


class ListChanges(BaseModel):
    name: OneLine | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    from_email: str | None = None
    from_name: OneLine | None = Field(None, max_length=200)
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
    autopilot: bool | None = None
    autopilot_send: bool | None = None

    _emails = field_validator("from_email", "reply_to")(_email)

    @field_validator("postal_address")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("required: every email shows it, as anti-spam laws ask")
        return value and value.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError("not a time zone name such as Europe/London")
        return value


class NewList(ListChanges):
    slug: Slug
    name: OneLine = Field(min_length=1, max_length=200)
    # Required and not empty: an empty one would be read as "not given".
    from_email: str = Field(min_length=1)
