"""Signing in to the bounce mailbox with OAuth 2.0 (SASL XOAUTH2): Microsoft 365 and Gmail
take no password over IMAP or POP3.

An access token comes from the provider's token endpoint (RFC 6749): a refresh token's
grant, or, with none, client credentials (Microsoft's app-only access). It is kept until a
minute before it ends, and forgotten when a poll fails, so the next poll asks afresh.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from newsletter.deadline import Deadline

RESPONSE_MAX = 64 * 1024
EARLY = 60  # seconds before its end that a token is renewed: a poll may last that long
SAID_MAX = 300  # what of the provider's error description an error message quotes

_tokens: dict[Client, tuple[str, float]] = {}
_lock = threading.Lock()


class TokenError(Exception):
    """The token endpoint gave no access token; the message says why, never a secret."""


@dataclass(frozen=True)
class Client:
    token_url: str
    client_id: str
    # Out of its repr: a log line or a traceback that shows the client shows no secret.
    client_secret: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    scope: str = ""

    def token(self, timeout: float = 30) -> str:
        with _lock:
            kept = _tokens.get(self)
        if kept and kept[1] > time.monotonic():
            return kept[0]
        token, lasts = _ask(self, timeout)
        with _lock:
            _tokens[self] = (token, time.monotonic() + max(lasts - EARLY, 0))
        return token

    def forget(self) -> None:
        with _lock:
            _tokens.pop(self, None)


def client(config) -> Client | None:
    """The app's OAuth settings (NEWSLETTER_BOUNCE_MAILBOX_OAUTH_*), or None without them."""
    if not config.get("BOUNCE_MAILBOX_OAUTH_TOKEN_URL"):
        return None
    return Client(
        token_url=config["BOUNCE_MAILBOX_OAUTH_TOKEN_URL"],
        client_id=config["BOUNCE_MAILBOX_OAUTH_CLIENT_ID"] or "",
        client_secret=config["BOUNCE_MAILBOX_OAUTH_CLIENT_SECRET"] or "",
        refresh_token=config["BOUNCE_MAILBOX_OAUTH_REFRESH_TOKEN"] or "",
        scope=config["BOUNCE_MAILBOX_OAUTH_SCOPE"] or "",
    )


def xoauth2(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response, as Google and Microsoft document it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _ask(client: Client, timeout: float) -> tuple[str, float]:
    """(access token, seconds it lasts) from the token endpoint."""
    form = {"client_id": client.client_id}
    if client.refresh_token:
        form.update(grant_type="refresh_token", refresh_token=client.refresh_token)
    else:
        form["grant_type"] = "client_credentials"
    if client.client_secret:
        form["client_secret"] = client.client_secret  # client_secret_post: both providers'
    if client.scope:
        form["scope"] = client.scope
    parts = urlsplit(client.token_url)
    host = parts.hostname
    deadline = Deadline(timeout)
    # http.client follows no redirect: one would carry the secret elsewhere.
    connection = deadline.connection(
        "https", host, parts.port or 443, timeout, context=ssl.create_default_context()
    )
    try:
        connection.request(
            "POST",
            (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            body=urlencode(form),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = connection.getresponse()
        status, body = answer.status, answer.read(RESPONSE_MAX + 1)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if not deadline.expired:
            raise TokenError(f"the token endpoint {host} could not be reached: {exc}") from exc
    finally:
        deadline.stop()
        connection.close()
    if deadline.expired:  # what the shut-down connection gave, if anything, was cut short
        raise TokenError(f"the token endpoint {host} gave no answer in {timeout:g} s")
    said = _json(body)
    token, lasts = said.get("access_token"), said.get("expires_in", 3600)
    if status == 200 and isinstance(token, str) and token and _seconds(lasts) is not None:
        return token, _seconds(lasts)
    error = (
        " ".join(str(said[key]) for key in ("error", "error_description") if said.get(key))
        or f"HTTP {status} and no access token"
    )
    raise TokenError(f"the token endpoint {host} gave no token: {error[:SAID_MAX]}")


def _json(body: bytes) -> dict:
    if len(body) > RESPONSE_MAX:
        return {}
    try:
        said = json.loads(body)
    except ValueError:
        return {}
    return said if isinstance(said, dict) else {}


def _seconds(value) -> float | None:
    """expires_in: a number of seconds, sent by some as a string."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 < seconds < 10**8 else None
