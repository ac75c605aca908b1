"""Email addresses as we accept them: one canonical form, or a clear error.

Subscribers, editors and lists' own addresses all go through normalise_email."""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email

from newsletter.errors import NewsletterError

# RFC 5321's limit for a path, less the angle brackets.
MAX_LENGTH = 254
LOCAL_MAX_LENGTH = 64  # RFC 5321 4.5.3.1.1: octets, and what we keep before the @ is ASCII


class InvalidEmail(NewsletterError, ValueError):
    """Not an email address we can send to. `kind` tells a form which words to show a reader:
    "invalid", "unsupported" (letters beyond ASCII before the @, which needs SMTPUTF8, RFC
    6531, which we do not use; or joiners in a domain, which email-validator refuses however
    written) or "lookalike" (a domain mixing alphabets)."""

    field = "email"

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind


# Persian and Arabic-Indic digits, as a Persian or Arabic keyboard types them.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
# The joiners are part of a Persian or Arabic word (IDNA 2008's CONTEXTJ): in a label of
# those letters they are its spelling, "نامه‌نگار" another domain than "نامهنگار".
_JOINERS = "\u200c\u200d"


def as_meant(raw: str) -> str:
    """An address as its owner meant it, without what keyboards and copying add: Persian
    digits, a CJK input method's full-width letters and signs ("ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ"),
    invisible direction marks and joiners from right-to-left text, "mailto:", angle brackets
    and a sentence's full stop after it. Nothing an address may hold is changed: a label of
    Persian or Arabic letters keeps its own digits and joiners, which IDNA 2008 allows."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(c for c in text if c in _JOINERS or unicodedata.category(c) != "Cf").strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    text = text[:-1] if text.endswith(".") and "@" in text else text
    local, at, domain = text.rpartition("@")
    if not at:
        return _typed(text)
    return _typed(local) + "@" + ".".join(_label(label) for label in domain.split("."))


def _label(label: str) -> str:
    """A domain's label: typed as ASCII it is made so; one of other letters is kept whole."""
    typed = _typed(label)
    return typed if typed.isascii() else label


def _typed(text: str) -> str:
    """Text as ASCII was meant: digits of a Persian keyboard, no joiners."""
    return "".join(c for c in text.translate(_DIGITS) if c not in _JOINERS)


def normalise_email(raw: str) -> str:
    """A valid address in one canonical form: Unicode domain, lower case."""
    raw = as_meant(raw)
    if not raw:
        raise InvalidEmail("Enter an email address.")
    if len(raw) > MAX_LENGTH:
        raise InvalidEmail("That email address is too long.")
    if len(raw.rpartition("@")[0]) > LOCAL_MAX_LENGTH:  # email-validator checks it when strict
        raise InvalidEmail("The part before the @-sign is too long (64 characters at most).")
    try:
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        # Valid, but not for us: we would need SMTPUTF8, or email-validator refuses joiners.
        local = raw.rpartition("@")[0]
        beyond = not local.isascii() or any(c in _JOINERS for c in raw)
        raise InvalidEmail(str(exc), "unsupported" if beyond else "invalid") from exc
    email = result.normalized.lower()
    if any(_mixes_alphabets(label) for label in email.rpartition("@")[2].split(".")):
        raise InvalidEmail(
            "The domain mixes Latin letters with Cyrillic or Greek ones, as a look-alike of "
            "another domain does.",
            "lookalike",
        )
    return email


def _mixes_alphabets(label: str) -> bool:
    """Latin with Cyrillic or Greek in one label ("аpple" with a Cyrillic а): what registries
    refuse (UTS 39's mixed scripts) and look-alikes of a known domain are made of."""
    if label.isascii():
        return False
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in label if c.isalpha()}
    return "LATIN" in scripts and bool(scripts & {"CYRILLIC", "GREEK"})


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
