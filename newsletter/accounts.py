"""Editors, admins and their API tokens. Passwords and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

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
