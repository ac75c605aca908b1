"""Configuration read from the environment, with embedded defaults for a fresh machine."""

import math
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import idna

from newsletter.addresses import ascii_domain

# Each NEWSLETTER_* variable, unset, falls back to something that needs no server.
ENV_PREFIX = "NEWSLETTER_"
DEFAULT_OUTBOX_PORT = 2525


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV_PREFIX + name, "").strip()
    return value or default


def _domain(name: str, default: str | None = None) -> str | None:
    """A domain as mail carries it: an internationalised one in its ASCII form (xn--…),
    which headers, SMTP envelopes and DKIM's d= need; what reports quote back is that."""
    value = _env(name, default)
    return value and _ascii_domain(value, ENV_PREFIX + name)


def _ascii_domain(value: str, name: str) -> str:
    try:
        return ascii_domain(value.rstrip("."))
    except idna.IDNAError as exc:
        raise ValueError(f"{name} is not a domain name: {value!r} ({exc})") from exc


def _base_url() -> str:
    """The public address, its host in ASCII: it goes into headers (List-Unsubscribe)."""
    url = _env("BASE_URL", "http://localhost:5000").rstrip("/")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        # "news.example.org" made every link in every email a relative one.
        raise ValueError(
            f"{ENV_PREFIX}BASE_URL must be an http:// or https:// address, not {url!r}"
        )
    if host.isascii():
        return url
    netloc = _ascii_domain(host, ENV_PREFIX + "BASE_URL") + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _check_smtp(urls: str) -> None:
    from newsletter.mailer import smtp_servers

    try:
        smtp_servers(urls)
    except ValueError as exc:  # "garbage" was taken, and every send failed on it later
        raise ValueError(f"{ENV_PREFIX}SMTP_URL: {exc}") from None


def _switch(name: str) -> bool:
    value = (_env(name) or "no").lower()
    if value not in ("yes", "no", "1", "0", "on", "off", "true", "false"):
        raise ValueError(f"{ENV_PREFIX}{name} must be yes or no, not {value!r}")
    return value in ("yes", "1", "on", "true")


def _oauth() -> dict:
    """The bounce mailbox's OAuth client (bounces/oauth.py): an https:// token endpoint, as
    the client's secret goes to it, and the client's id with it."""
    names = ("TOKEN_URL", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "SCOPE")
    found = {f"BOUNCE_MAILBOX_OAUTH_{name}": _env(f"BOUNCE_MAILBOX_OAUTH_{name}") for name in names}
    url = found["BOUNCE_MAILBOX_OAUTH_TOKEN_URL"]
    if url and (urlsplit(url).scheme != "https" or not urlsplit(url).hostname):
        raise ValueError(f"{ENV_PREFIX}BOUNCE_MAILBOX_OAUTH_TOKEN_URL must be an https:// URL")
    if url and not found["BOUNCE_MAILBOX_OAUTH_CLIENT_ID"]:
        raise ValueError(
            f"{ENV_PREFIX}BOUNCE_MAILBOX_OAUTH_TOKEN_URL is set: "
            f"set {ENV_PREFIX}BOUNCE_MAILBOX_OAUTH_CLIENT_ID too"
        )
    return found


def _read(name: str, default: str, kind: type, what: str):
    value = _env(name, default)
    try:
        return kind(value)
    except ValueError:  # "could not convert string to float" named no variable
        raise ValueError(f"{ENV_PREFIX}{name} must be {what}, not {value!r}") from None


def _whole(name: str, default: str) -> int:
    return _read(name, default, int, "a whole number")


def _real(name: str, default: str) -> float:
    """A number of at least 0: "nan" and "inf" read as floats, and killed beat later."""
    number = _read(name, default, float, "a number")
    if not 0 <= number < math.inf:
        raise ValueError(f"{ENV_PREFIX}{name} must be a number of at least 0, not {number!r}")
    return number


def _period(name: str, default: str) -> float:
    """Seconds between or within runs: 0 made beat send 15,000 tasks in 12 seconds."""
    number = _real(name, default)
    if number <= 0:
        raise ValueError(f"{ENV_PREFIX}{name} must be a number of seconds above 0, not {number!r}")
    return number


def _count(name: str, default: str) -> int:
    """A whole number of at least one: a batch, a window or a connection that carries
    nothing would never move the send."""
    value = _env(name, default)
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{ENV_PREFIX}{name} must be a whole number of at least 1, not {value!r}")
    return number


def _fallback_keys() -> list[str]:
    """Older secret keys, comma-separated: what they signed is still accepted, nothing new
    is signed with them."""
    value = _env("SECRET_KEY_FALLBACKS")
    found = [key.strip() for key in value.split(",")] if value else []
    if "" in found:
        raise ValueError(
            f"{ENV_PREFIX}SECRET_KEY_FALLBACKS has an empty key: separate the older keys"
            " with single commas"
        )
    return found


def database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres URLs. PostgreSQL or SQLite, said in one line: another
    was a traceback of 150 lines from deep in SQLAlchemy."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ValueError(
            f"{ENV_PREFIX}DATABASE_URL must be a postgresql:// or sqlite:/// URL, not one "
            f"starting {url.split('://')[0][:20]!r}"  # the rest may hold a password
        )
    return url


def instance_path() -> str | None:
    """NEWSLETTER_INSTANCE_PATH, else Flask's choice: instance/ beside the source tree, or
    <prefix>/var/newsletter-instance for an installed package (not writable everywhere)."""
    value = _env("INSTANCE_PATH")
    return os.path.abspath(value) if value else None


def prepare_instance(settings: dict, instance: Path) -> None:
    """Make the instance folder and, for SQLite, keep a secret key in it, so links stay
    valid across restarts. create_app calls this; load() only reads.

    Only for SQLite, which is one machine's: with a shared database the web app and workers
    may be on different hosts, each with its own folder, and a key of each host's own would
    break every link a worker puts in an email. create_app asks for the setting then."""
    instance.mkdir(parents=True, exist_ok=True)
    if settings["SECRET_KEY"] or not settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    settings["SECRET_KEY"] = path.read_text().strip()


def load(instance: Path) -> dict:
    """The settings, from the environment; writes nothing."""
    smtp_url = _env("SMTP_URL")
    if smtp_url:
        _check_smtp(smtp_url)
    outbox_port = _whole("OUTBOX_PORT", str(DEFAULT_OUTBOX_PORT))
    base_url = _base_url()
    broker_dir = instance / "broker"
    mail_domain = _domain("MAIL_DOMAIN", urlsplit(base_url).hostname or "localhost")
    database = database_url(_env("DATABASE_URL", f"sqlite:///{instance / 'newsletter.sqlite'}"))
    return {
        "SQLALCHEMY_DATABASE_URI": database,
        "BROKER_URL": _env("BROKER_URL", "filesystem://"),
        "BROKER_DIR": _env("BROKER_DIR", str(broker_dir)),
        "TASK_QUEUE": _env("TASK_QUEUE", "newsletter"),
        "SMTP_URL": smtp_url or f"smtp://127.0.0.1:{outbox_port}",
        # The embedded outbox's port (`newsletter dev`): another instance beside it needs its own.
        "OUTBOX_PORT": outbox_port,
        # The outbox page only exists when mail goes to the embedded outbox.
        "OUTBOX_DIR": None if smtp_url else str(instance / "outbox"),
        "BASE_URL": base_url,
        "SECRET_KEY": _env("SECRET_KEY"),
        # Flask's own name: it checks session cookies against these too.
        "SECRET_KEY_FALLBACKS": _fallback_keys(),
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAIL_DOMAIN": mail_domain,
        "DKIM_DOMAIN": _domain("DKIM_DOMAIN", mail_domain),
        # Set, each issue email's envelope sender is bounces+<delivery>-<mac>@ this domain,
        # whose mail must reach `newsletter bounces serve`; unset, the list's address.
        "BOUNCE_DOMAIN": _domain("BOUNCE_DOMAIN"),
        # Anyone can write to that domain: with it set, a report that carries neither a
        # copy's return path nor its Message-ID acts on the addresses it names only when on.
        "BOUNCES_BY_ADDRESS": _switch("BOUNCES_BY_ADDRESS"),
        # The organisation's postal address, for lists created without their own.
        "POSTAL_ADDRESS": _env("POSTAL_ADDRESS"),
        # Soft bounces: the score halves every this many days; at the threshold, no more mail.
        "BOUNCE_HALF_LIFE": _period("BOUNCE_HALF_LIFE", "30"),
        "BOUNCE_THRESHOLD": _real("BOUNCE_THRESHOLD", "3"),
        # This many refusals of our mail by one receiving domain within the window (seconds),
        # for one issue, pause the issue; 0 never pauses.
        "SENDER_REFUSALS_PAUSE": _whole("SENDER_REFUSALS_PAUSE", "20"),
        "SENDER_REFUSALS_WINDOW": _period("SENDER_REFUSALS_WINDOW", "3600"),
        "SENDER_REFUSALS_HOLD": _real("SENDER_REFUSALS_HOLD", "21600"),
        "SENDER_REFUSALS_DOMAINS": _whole("SENDER_REFUSALS_DOMAINS", "3"),
        # Dead addresses en masse (bounces/breaker.py): this share of an issue's copies, and
        # at least this many, coming back as dead addresses is our fault; 0 never trips.
        "DEAD_ADDRESSES_PAUSE": _whole("DEAD_ADDRESSES_PAUSE", "10"),
        "DEAD_ADDRESSES_SHARE": _real("DEAD_ADDRESSES_SHARE", "0.2"),
        # imaps://user:password@host/INBOX or pop3s://…: polled by beat for bounces.
        "BOUNCE_MAILBOX": _env("BOUNCE_MAILBOX"),
        # Set, the mailbox's user signs in with XOAUTH2 and a token from this endpoint.
        **_oauth(),
        "BOUNCE_POLL_INTERVAL": _period("BOUNCE_POLL_INTERVAL", "300"),
        # Posts by email: only Authentication-Results headers with this authserv-id (the MTA
        # in front of `bounces serve`, which removes forged ones) are believed; unset, every
        # message to a posts address waits for an editor.
        "INBOUND_AUTHSERV_ID": _env("INBOUND_AUTHSERV_ID"),
        # DKIM: unset key file, no signature. The public key goes in DNS at
        # <selector>._domainkey.<domain>.
        "DKIM_KEY_FILE": _env("DKIM_KEY_FILE"),
        "DKIM_SELECTOR": _env("DKIM_SELECTOR", "newsletter"),
        "CONFIRM_MAX_AGE": _whole("CONFIRM_MAX_AGE", str(7 * 24 * 3600)),
        "PREFERENCES_MAX_AGE": _whole("PREFERENCES_MAX_AGE", str(365 * 24 * 3600)),
        # The links a reader asks for to download or erase their data.
        "PRIVACY_LINK_MAX_AGE": _whole("PRIVACY_LINK_MAX_AGE", str(24 * 3600)),
        # One such email of each kind per subscriber in this many minutes at most: a
        # forwarded preferences link cannot flood its owner's mailbox.
        "PRIVACY_EMAIL_EVERY_MINUTES": _whole("PRIVACY_EMAIL_EVERY_MINUTES", "10"),
        "PRIVACY_EMAILS_A_DAY": _whole("PRIVACY_EMAILS_A_DAY", "3"),
        "BATCH_SIZE": _count("BATCH_SIZE", "2000"),
        # Beat starts due issues and restarts stopped sends this often.
        "BEAT_INTERVAL": _period("BEAT_INTERVAL", "10"),
        # Queued clicks and opens (with Redis) reach the database this often.
        "CLICK_DRAIN_INTERVAL": _period("CLICK_DRAIN_INTERVAL", "5"),
        # A click or open this soon after its copy was sent is likely a mail gateway's scan
        # (analytics.likely_machine); 0: time says nothing.
        "LIKELY_MACHINE_SECONDS": _real("LIKELY_MACHINE_SECONDS", "30"),
        # Seconds between polls of each feed; longer where a feed or its server asks.
        "FEED_POLL_INTERVAL": _period("FEED_POLL_INTERVAL", "900"),
        # The longest a failing feed waits between tries, and the most a feed may ask.
        "FEED_BACKOFF_MAX": _period("FEED_BACKOFF_MAX", "86400"),
        # A feed not read for this long (failing since it last read, or since it was added):
        # the editors are told, once, as the week's issue would go without its posts.
        "FEED_FAILING_AFTER": _period("FEED_FAILING_AFTER", str(3 * 86400)),
        "FEED_TIMEOUT": _period("FEED_TIMEOUT", "20"),
        # One fetch of a feed, redirects and all, however slowly the server sends.
        "FEED_DEADLINE": _period("FEED_DEADLINE", "60"),
        # How long "fetch now" waits for the worker before answering 202 with the job.
        "FEED_FETCH_WAIT": _real("FEED_FETCH_WAIT", "15"),
        "FEED_MAX_BYTES": _whole("FEED_MAX_BYTES", str(5 * 1024 * 1024)),
        "FEED_MAX_ITEMS": _whole("FEED_MAX_ITEMS", "200"),
        # Hosts ('host' or 'host:port', comma-separated) fetched even at private addresses.
        "FEED_ALLOW_HOSTS": _env("FEED_ALLOW_HOSTS", ""),
        "SMTP_TIMEOUT": _period("SMTP_TIMEOUT", "30"),
        # What one SMTP session carries before the next is opened (Exim refuses more than
        # 1,000 by default).
        "SMTP_MESSAGES_PER_CONNECTION": _count("SMTP_MESSAGES_PER_CONNECTION", "1000"),
        # A live batch renews its rows every third of this; a dead one's come back after it.
        "CLAIM_LEASE": _period("CLAIM_LEASE", "15"),
        # Batches of one issue in flight at once, across all workers.
        "SEND_PARALLEL": _count("SEND_PARALLEL", "8"),
        # Results are written every this many messages: at most this many repeats per
        # killed worker.
        "SEND_WINDOW": _count("SEND_WINDOW", "50"),
        "RATE_PER_SECOND": _whole("RATE_PER_SECOND", "0"),
        "RATE_PER_HOUR": _whole("RATE_PER_HOUR", "0"),
        "PAUSE_AFTER_ERRORS": _whole("PAUSE_AFTER_ERRORS", "100"),
        "AUTOPILOT_LEAD_HOURS": _real("AUTOPILOT_LEAD_HOURS", "3"),
        # Posts a list sends on their own in a day at most; the rest wait for the digest.
        "EACH_POST_DAILY_MAX": _whole("EACH_POST_DAILY_MAX", "10"),
        # A send nothing has moved for this long (its queue lost with the broker) restarts.
        "STALL_AFTER": _period("STALL_AFTER", "30"),
        "MAX_ATTEMPTS": _whole("MAX_ATTEMPTS", "8"),
        "SEND_RETRY_BASE": _period("SEND_RETRY_BASE", "30"),
        "SIGN_IN_RATE_LIMIT": _env("SIGN_IN_RATE_LIMIT", "20 per minute"),
        "SUBSCRIBE_RATE_LIMIT": _env("SUBSCRIBE_RATE_LIMIT", "10 per minute;100 per hour"),
        # The public forms answer no sooner than this, so their time tells nobody who is
        # subscribed: above what writing a new address takes.
        "SUBSCRIBE_ANSWER_AFTER": _real("SUBSCRIBE_ANSWER_AFTER", "0.05"),
        "PROXY_COUNT": _whole("PROXY_COUNT", "0"),
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        # A form's security token lasts a day, not Flask-WTF's hour: a reader who left the
        # subscribe form open over lunch could not send it.
        "WTF_CSRF_TIME_LIMIT": 24 * 3600,
    }
