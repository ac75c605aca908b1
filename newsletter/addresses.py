"""Email addresses as we accept them: one canonical form, or a clear error.

Subscribers, editors and lists' own addresses all go through normalise_email."""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email

from newsletter.errors import NewsletterError

# RFC 5321's limit for a path, less the angle brackets.
MAX_LENGTH = 254


class InvalidEmail(NewsletterError, ValueError):
    """Not an email address we can send to."""

    field = "email"


# Persian and Arabic-Indic digits, as a Persian or Arabic keyboard types them.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)


def as_meant(raw: str) -> str:
    """An address as its owner meant it, without what keyboards and copying add: Persian
    digits, a CJK input method's full-width letters and signs ("ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ"),
    invisible direction marks and joiners from right-to-left text, "mailto:", angle brackets
    and a sentence's full stop after it. Nothing an address may hold is changed."""
    text = unicodedata.normalize("NFKC", raw or "").translate(_DIGITS)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text[:-1] if text.endswith(".") and "@" in text else text


def normalise_email(raw: str) -> str:
    """A valid address in one canonical form: Unicode domain, lower case."""
    raw = as_meant(raw)
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


def unicode_domain(domain: str) -> str:
    """A domain as we keep it (reports' domains among them): lower case, an internationalised
    one in Unicode, as an editor may paste it either way; as given when it is no domain."""
    domain = domain.strip().lower()
    try:
        return idna.decode(domain, uts46=True) if "xn--" in domain else domain
    except idna.IDNAError:
        return domain
