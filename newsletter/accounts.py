"""Editors, admins and their API tokens. Passwords and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter.extensions import db
from newsletter.models import ApiToken, User, utcnow
from newsletter.subscriptions.service import normalise_email

ROLES = ("admin", "editor")
TOKEN_PREFIX = "nl_"
MIN_PASSWORD = 10


class AccountError(ValueError):
    pass


def create_user(email: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    email = normalise_email(email)
    if db.session.scalar(sa.select(User).where(User.email == email)):
        raise AccountError(f"a user {email} exists already")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def _hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> str:
    """A new API token; the plain value is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), name=name))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if record is None:
        return None
    record.last_used_at = utcnow()
    db.session.commit()
    return record.user


# After this many wrong passwords in a row the account waits LOCKOUT before trying again.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
# Checked when the address is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not a real password")


class SignInError(Exception):
    pass


def sign_in(email: str, password: str) -> User:
    """The user whose password this is; one vague error for every way it can fail."""
    try:
        user = find_user(email)
    except ValueError:
        user = None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise SignInError("Email or password is wrong.")
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        raise SignInError("Too many failed attempts. Try again in a few minutes.")
    if not check_password(user, password):
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCKOUT
            user.failed_sign_ins = 0
        db.session.commit()
        raise SignInError("Email or password is wrong.")
    user.failed_sign_ins = 0
    user.locked_until = None
    db.session.commit()
    return user
