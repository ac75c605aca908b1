"""Email addresses as we accept them: one canonical form, or a clear error.

Subscribers, editors and lists' own addresses all go through normalise_email."""

from __future__ import annotations

import idna
from email_validator import EmailNotValidError, validate_email

from newsletter.errors import NewsletterError

# RFC 5321's limit for a path, less the angle brackets.
MAX_LENGTH = 254


class InvalidEmail(NewsletterError, ValueError):
    """Not an email address we can send to."""

    field = "email"


def normalise_email(raw: str) -> str:
    """A valid address in one canonical form: Unicode domain, lower case."""
    raw = (raw or "").strip()
    if not raw:
        raise InvalidEmail("Enter an email address.")
    if len(raw) > MAX_LENGTH:
        raise InvalidEmail("That email address is too long.")
    try:
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized.lower()


def ascii_domain(domain: str) -> str:
    """A domain as SMTP and headers carry it: an internationalised one in its ASCII form
    (xn--…). idna.IDNAError (a UnicodeError) when it is no domain."""
    if domain.isascii():
        return domain
    return idna.encode(domain, uts46=True).decode("ascii")
