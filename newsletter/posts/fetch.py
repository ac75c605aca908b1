"""GET a URL that anyone adding a feed chose: each hop resolved once, checked, and connected to
at the address checked (no second lookup to rebind); redirects followed here, each checked;
one deadline for the whole fetch, however slowly the server sends; a cap on bytes, which
for a gzipped answer holds for what it unpacks to (a few kilobytes can unpack to gigabytes).
What the server says of the feed beside its bytes is kept: its validators, how long it may be
cached, where it moved for good, and why it would not answer (its status and Retry-After)."""

from __future__ import annotations

import http.client
import socket
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from newsletter.deadline import Deadline
from newsletter.posts import guard

ACCEPT_ENCODING = "gzip"
MAX_HOPS = 5
REDIRECTS = {301, 302, 303, 307, 308}
# "Future references ought to use the new URI" (RFC 9110 15.4.2, 15.4.9); 302, 303 and 307
# say to keep asking at the old one.
PERMANENT = {301, 308}
# A Retry-After further off than this is a server's mistake, not a plan: held to a week.
RETRY_AFTER_MAX = timedelta(days=7)
CHUNK = 64 * 1024


class FetchError(Exception):
    """Why a fetch failed, in words that say nothing of what the other end answered."""


class Declined(FetchError):
    """The server answered, but not with the feed: its status, in words, and when it asked
    us to come back (Retry-After), if it did."""

    def __init__(self, status: int, retry_after: datetime | None = None):
        super().__init__(STATUS_WORDS.get(status, "").format(status=status) or _other(status))
        self.status, self.retry_after = status, retry_after

    @property
    def gone(self) -> bool:
        return self.status == 410


STATUS_WORDS = {
    401: "The site asks for a password to read this feed (HTTP 401).",
    403: "The site refuses us this feed (HTTP 403 Forbidden).",
    404: "There is no feed at this address (the site answered 404 Not Found).",
    410: (
        "The site says this feed is gone for good (410 Gone): it is not fetched until you "
        "fetch it now, which tries again."
    ),
    429: "The site asked us to slow down (429 Too Many Requests): we wait as long as it asked.",
    503: "The site is unavailable for now (HTTP 503); we try again later.",
}


def _other(status: int) -> str:
    if status >= 500:
        return f"The site had an error (HTTP {status}); we try again later."
    return f"The site would not give the feed (HTTP {status})."


class TooLarge(FetchError):
    def __init__(self, max_bytes: int):
        super().__init__(f"the feed is larger than {max_bytes / 1024 / 1024:g} MB")


@dataclass
class Limits:
    deadline: float  # seconds for the whole fetch, redirects included
    timeout: float  # seconds for one connect or read
    max_bytes: int
    allow_hosts: str | None = None


@dataclass
class Answer:
    body: bytes | None  # None: not modified (304)
    etag: str | None = None
    modified: str | None = None
    url: str = ""  # where it came from, after redirects: the base of its relative links
    content_type: str | None = None  # its charset outranks the XML declaration's
    max_age: int | None = None  # Cache-Control: max-age, seconds
    moved_to: str | None = None  # where permanent redirects alone led, if anywhere


def get(url: str, headers: dict[str, str], limits: Limits) -> Answer:
    deadline = Deadline(limits.deadline)
    moved_to, for_good = None, True
    try:
        for _ in range(MAX_HOPS + 1):
            status, answer, location = _one_hop(url, headers, limits, deadline)
            if location is None:
                answer.url, answer.moved_to = url, moved_to
                return answer
            url = urljoin(url, location)
            # Moved for good only as far as every hop so far says so: 301 then 302 moved
            # the feed to where the 301 pointed.
            for_good = for_good and status in PERMANENT
            moved_to = url if for_good else moved_to
        raise FetchError("too many redirects")
    except guard.Refused as exc:
        raise FetchError(str(exc)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            raise FetchError("timed out") from exc
        if isinstance(exc, socket.gaierror):
            raise FetchError("unknown host") from exc
        if isinstance(exc, http.client.BadStatusLine | http.client.LineTooLong):
            raise FetchError("the server did not answer in HTTP") from exc
        if isinstance(exc, ssl.SSLError):
            raise FetchError("the TLS connection failed") from exc
        raise FetchError("the connection failed") from exc
    finally:
        deadline.stop()


def _one_hop(url, headers, limits, deadline) -> tuple[int, Answer, str | None]:
    scheme, host, port = guard.target(url)
    addresses = guard.resolve(host, port, deadline.left(limits.timeout))
    guard.check(host, port, addresses, limits.allow_hosts)
    family, address = addresses[0]
    connection = deadline.connection(scheme, host, port, limits.timeout, (family, address))
    try:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        status, said = response.status, response.getheader
        if status in REDIRECTS and said("Location"):
            return status, Answer(None), said("Location")
        if status not in (200, 304):
            raise Declined(status, retry_after(said("Retry-After")))
        answer = Answer(None, said("ETag"), said("Last-Modified"))
        answer.content_type, answer.max_age = said("Content-Type"), max_age(said("Cache-Control"))
        if status == 200:
            answer.body = _read(response, limits.max_bytes, deadline, limits.timeout)
        return status, answer, None
    finally:
        deadline.watch(None)
        connection.close()


def _read(response, max_bytes: int, deadline: Deadline, timeout: float) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdecimal() and int(length) > max_bytes:
        raise TooLarge(max_bytes)
    unpack = _unpacker(response.getheader("Content-Encoding"))
    chunks, size = [], 0
    while True:
        deadline.left(timeout)
        chunk = response.read1(CHUNK)
        if not chunk:
            deadline.left(timeout)  # an end that the deadline caused is no end of the feed
            if unpack and not unpack.eof:
                raise FetchError("the gzipped feed was cut short")
            return b"".join(chunks)
        if unpack:
            try:  # never more than the cap and one byte, whatever the chunk unpacks to
                chunk = unpack.decompress(chunk, max_bytes - size + 1)
            except zlib.error as exc:
                raise FetchError("the gzipped feed could not be unpacked") from exc
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        chunks.append(chunk)


def _unpacker(encoding: str | None):
    """What unpacks the body: nothing for none; gzip, which we ask for (ACCEPT_ENCODING);
    any other a server sends unasked is an error that says so."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    raise FetchError(f"the server sent the feed encoded as {encoding[:40]!r}, which we do not read")


def retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """When a Retry-After (seconds, or an HTTP date) lets us ask again, at most a week on;
    None for none or one that reads as neither."""
    value = (value or "").strip()
    now = now or datetime.now(UTC)
    if value.isdecimal():
        return now + min(timedelta(seconds=int(value[:12])), RETRY_AFTER_MAX)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC, as HTTP dates are
        moment = moment.replace(tzinfo=UTC)
    return min(moment, now + RETRY_AFTER_MAX)


def max_age(cache_control: str | None) -> int | None:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age" and value.strip().strip('"').isdecimal():
            return int(value.strip().strip('"')[:12])
    return None
