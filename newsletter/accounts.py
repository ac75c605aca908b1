"""Editors, admins and their API tokens. Passwords and tokens are stored only as hashes."""

from __future__ import annotations

import functools
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import RateLimitItemPerMinute
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter import macs
from newsletter.addresses import normalise_email
from newsletter.errors import NewsletterError
from newsletter.extensions import db, limiter, network
from newsletter.models import ApiToken, User, utcnow

ROLES = ("admin", "editor")
TOKEN_PREFIX = "nl_"
MIN_PASSWORD = 10


class AccountError(NewsletterError, ValueError):
    """A user cannot be created or changed as asked."""


class UserExists(AccountError):
    """A user of that address exists already."""


def create_user(email: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    email = normalise_email(email)
    if db.session.scalar(sa.select(User).where(User.email == email)):
        raise UserExists(f"a user {email} exists already")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


# An invitation link works for a week, and once: setting the password changes the hash it
# is bound to.
INVITATION_MAX_AGE = 7 * 24 * 3600


class InvitationError(AccountError):
    """An invitation link that is forged, used already, or too old."""

    status = 404


def invite_user(email: str, role: str) -> User:
    """A new user with a password nobody knows, until they set theirs from the invitation."""
    return create_user(email, secrets.token_urlsafe(32), role)


def _invitations() -> URLSafeTimedSerializer:
    keys = macs.keys(current_app.config)
    return URLSafeTimedSerializer(keys, salt="newsletter-invitation")


def _hash_mark(user: User) -> str:
    """What a link is bound to: the password (setting one ends it) and the invitations sent
    (a newer one ends it). Before any was counted, the password alone, as older links are."""
    bound = user.password_hash + (f":{user.invitations}" if user.invitations else "")
    return hashlib.sha256(bound.encode()).hexdigest()[:16]


def invitation_token(user: User) -> str:
    """The token of the user's latest invitation link."""
    return _invitations().dumps([user.id, _hash_mark(user)])


def new_invitation(user: User) -> str:
    """The token of a new link where the user sets their own password (a new one, if they
    had); every link sent before it stops working."""
    user.invitations += 1
    db.session.commit()
    return invitation_token(user)


def user_for_invitation(token: str) -> User:
    max_age = current_app.config.get("INVITATION_MAX_AGE", INVITATION_MAX_AGE)
    try:
        user_id, mark = _invitations().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvitationError("This invitation has expired: ask an admin for a new one.") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvitationError("This invitation link is not valid.") from exc
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not secrets.compare_digest(str(mark), _hash_mark(user)):
        raise InvitationError("This invitation was used already: sign in, or ask for a new one.")
    return user


def accept_invitation(token: str, password: str) -> User:
    user = user_for_invitation(token)
    set_password(user, password)
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def _hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_NAME_MAX = 100  # the column's


def create_token(user: User, name: str = "") -> str:
    """A new API token; the plain value is shown once and never stored."""
    if len(name) > TOKEN_NAME_MAX:
        raise AccountError(f"a token's name can be at most {TOKEN_NAME_MAX} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), name=name))
    db.session.commit()
    return token


def tokens_of(user: User | None = None) -> list[ApiToken]:
    """Every token, or one user's, oldest first: what they are for, never their value."""
    query = sa.select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def revoke_token(token_id: int) -> str:
    """The token stops working at once: its row goes, and with it the hash it matched.
    What it was, in words."""
    found = db.session.get(ApiToken, token_id)
    if found is None:
        raise AccountError(f"there is no token {token_id}")
    said = f"token {found.id} ({found.name or 'no name'}) of {found.user.email}"
    db.session.delete(found)
    db.session.commit()
    return said


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if record is None:
        return None
    record.last_used_at = utcnow()
    db.session.commit()
    return record.user


# Wrong tries are counted per (address, client) and per client, in the rate-limit store, and
# past either limit every try fails for a while. Unknown addresses count the same, so nothing
# tells which exist. A guesser spread over many networks met neither limit: the tries of
# every client an account has not signed in from also count together, per address. A
# client it has signed in from carries a signed cookie saying so (OWASP's device cookies)
# and counts on its own, so the owner still signs in there while strangers are held off.
FAILURE_WINDOW_MINUTES = 15
FAILURES_PER_ADDRESS = 5
FAILURES_PER_IP = 50
FAILURES_PER_ACCOUNT = 20
DEVICE_COOKIE = "newsletter_device"
DEVICE_DAYS = 180
WRONG = "Email or password is wrong. After many wrong tries, signing in from here waits a while."


@functools.cache
def _dummy_hash() -> str:
    """Checked when there is no real hash to check (unknown address, too many tries), so
    every answer costs the same. Made at the first sign-in, not on import: a hash is 90 ms of
    every process's start, each command's and worker's."""
    return generate_password_hash("not a real password")


class SignInError(NewsletterError):
    """Signing in failed; the one vague message for every reason."""

    status = 401
    code = "unauthorized"


def _address_key(email: str) -> str:
    """The address as find_user reads it: each spelling that signs in as one account
    ("mailto:", "<...>", invisible characters inside) is counted as that account, or a
    guesser varying it was never held."""
    try:
        email = normalise_email(email)
    except ValueError:  # no address: no account, counted as typed
        email = email.strip().lower()
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(macs.keys(current_app.config), salt="newsletter-device")


def device_cookie(email: str) -> str:
    """The cookie a client gets when the address signs in there: its own name for the
    client, bound to the address."""
    return _devices().dumps([_address_key(email), secrets.token_hex(8)])


def _device(email: str, cookie: str | None) -> str | None:
    """The client's name, if its cookie is ours, young enough, and for this address."""
    try:
        address, device = _devices().loads(cookie or "", max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return device if address == _address_key(email) else None


def _failure_limits(email: str, ip: str | None, device: str | None) -> list[tuple]:
    address = _address_key(email)
    if device:
        return [
            (RateLimitItemPerMinute(FAILURES_PER_ADDRESS, FAILURE_WINDOW_MINUTES), address, device)
        ]
    ip = network(ip)
    return [
        (RateLimitItemPerMinute(FAILURES_PER_ADDRESS, FAILURE_WINDOW_MINUTES), address, ip),
        (RateLimitItemPerMinute(FAILURES_PER_IP, FAILURE_WINDOW_MINUTES), "any", ip),
        (RateLimitItemPerMinute(FAILURES_PER_ACCOUNT, FAILURE_WINDOW_MINUTES), address, "new"),
    ]


def sign_in(email: str, password: str, ip: str | None = None, device: str | None = None) -> User:
    """The user whose password this is; one vague error, after one password hash, for every
    way it can fail (unknown address, wrong password, too many tries). `device` is the
    client's DEVICE_COOKIE, if it sent one."""
    counters = limiter.limiter
    limits = _failure_limits(email, ip or "", _device(email, device))
    allowed = all(counters.test(item, "sign-in", *keys) for item, *keys in limits)
    try:
        user = find_user(email)
    except ValueError:
        user = None
    real = user is not None and allowed
    if check_password_hash(user.password_hash if real else _dummy_hash(), password) and real:
        return user
    for item, *keys in limits:
        counters.hit(item, "sign-in", *keys)
    raise SignInError(WRONG)


def set_password(user: User, password: str) -> None:
    """A new password ends every session the user has open."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Signs the user out everywhere: session cookies carry the version they were made with."""
    user.session_version += 1
    db.session.commit()


def user_for_session(session_id: str) -> User | None:
    """The user a session cookie names, unless it was ended since (see User.get_id)."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.session_version == int(version) else None
