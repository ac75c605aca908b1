"""Signed links for confirming, leaving and managing a subscription, and for a reader's own
data (a copy, erasure)."""

from __future__ import annotations

import binascii
import hashlib
import time
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes

from newsletter import macs
from newsletter.errors import NewsletterError

# Test emails' links (sending/proofs.py) name this subscriber, who is no one: they look as
# real links do and open a page that says what they open in a reader's copy.
TEST_READER = 0

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
# Emailed on request from the preferences page: whoever a preferences link is forwarded to
# may change preferences, never read the data or erase it.
DATA = "data"
ERASE = "erase"


class TokenError(NewsletterError):
    """A link that is forged, tampered with, or too old. A link too old but signed by us
    still says whose it was (`target`): its page can speak their language."""

    def __init__(self, message: str, expired: bool = False, target: LinkTarget | None = None):
        super().__init__(message)
        self.expired, self.target = expired, target


@dataclass(frozen=True)
class LinkTarget:
    subscriber_id: int
    list_id: int
    # The subscription's version when the link was made (confirmation links); 0 if none.
    version: int = 0


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    keys = macs.keys(current_app.config)
    return URLSafeTimedSerializer(keys, salt=f"newsletter-{purpose}")


def make(purpose: str, subscriber_id: int, list_id: int, version: int | None = None) -> str:
    """A signed link token; with a version, it stops working once the subscription's
    version has moved on (a confirmation link after the subscriber left)."""
    payload = [subscriber_id, list_id] + ([version] if version is not None else [])
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str) -> LinkTarget:
    max_age = {
        CONFIRM: current_app.config["CONFIRM_MAX_AGE"],
        PREFERENCES: current_app.config["PREFERENCES_MAX_AGE"],
        DATA: current_app.config["PRIVACY_LINK_MAX_AGE"],
        ERASE: current_app.config["PRIVACY_LINK_MAX_AGE"],
        # Leaving must always work, however old the email.
        UNSUBSCRIBE: None,
    }[purpose]
    serializer = _serializer(purpose)
    try:
        return _target(serializer.loads(token, max_age=max_age))
    except SignatureExpired as exc:
        try:  # the signature checked out: whose it was is known
            target = _target(serializer.load_payload(exc.payload))
        except (BadSignature, ValueError, TypeError):
            target = None
        raise TokenError("This link has expired.", expired=True, target=target) from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError("This link is not valid.") from exc


def younger_than(purpose: str, token: str, seconds: int) -> bool:
    """Whether a token already read was made within `seconds`: an unsubscribe link, which
    never expires, gives a preferences link only while one of its own would still work."""
    try:
        _serializer(purpose).loads(token, max_age=seconds)
    except (BadSignature, ValueError, TypeError):  # SignatureExpired among them
        return False
    return True


def address_check(email: str) -> int:
    """A number a data or erase link carries for the address it was mailed to: the link opens
    nothing once the subscriber's address has changed, or (on SQLite, which may give an
    erased subscriber's id again) once the subscriber is someone else."""
    return int.from_bytes(hashlib.sha256(email.encode()).digest()[:4], "big")


def _target(payload) -> LinkTarget:
    subscriber_id, list_id, *version = payload
    return LinkTarget(int(subscriber_id), int(list_id), int(version[0]) if version else 0)


def url(purpose: str, subscriber_id: int, list_id: int, version: int | None = None) -> str:
    base = current_app.config["BASE_URL"]
    return f"{base}/{purpose}/{make(purpose, subscriber_id, list_id, version)}"


class Links:
    """Many links of one purpose and list, for sending an issue: the tokens itsdangerous
    makes, signed with a key prepared once (`macs.Keyed`) instead of a new serializer and
    signer per link."""

    def __init__(self, purpose: str, list_id: int):
        serializer = _serializer(purpose)
        signer = serializer.make_signer(serializer.salt)
        # By name: itsdangerous's digest method is a lazy constructor, not hashlib's.
        digest = signer.digest_method().name
        self.mac = macs.Keyed(signer.derive_key(), digest)
        self.prefix = f"{current_app.config['BASE_URL']}/{purpose}/"
        self.list_id = int(list_id)
        self.second, self.stamp = -1, b""

    def token(self, subscriber_id: int) -> str:
        return self.signed(self.value(subscriber_id))

    def value(self, subscriber_id: int) -> bytes:
        """What a token signs, the same for each purpose of one list: a copy's links of
        several purposes make it once."""
        # The compact JSON of [subscriber_id, list_id], too short to be worth compressing.
        payload = _base64(f"[{int(subscriber_id)},{self.list_id}]".encode())
        now = int(time.time())
        if now != self.second:  # the timestamp part changes once a second
            self.second, self.stamp = now, b"." + _base64(int_to_bytes(now))
        return payload + self.stamp

    def signed(self, value: bytes) -> str:
        return (value + b"." + _base64(self.mac.digest(value))).decode("ascii")

    def url(self, subscriber_id: int) -> str:
        return self.prefix + self.token(subscriber_id)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _base64(data: bytes) -> bytes:
    """itsdangerous's base64_encode (URL-safe, unpadded), without its conversions."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")
