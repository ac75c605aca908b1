"""GET a URL that anyone adding a feed chose: each hop resolved once, checked, and connected to
at the address checked (no second lookup to rebind); redirects followed here, each checked;
one deadline for the whole fetch, however slowly the server sends; a cap on bytes, which
for a gzipped answer holds for what it unpacks to (a few kilobytes can unpack to gigabytes)."""

from __future__ import annotations

import http.client
import socket
import ssl
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from newsletter.deadline import Deadline
from newsletter.posts import guard

ACCEPT_ENCODING = "gzip"
MAX_HOPS = 5
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024


class FetchError(Exception):
    """Why a fetch failed, in words that say nothing of what the other end answered."""


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


def get(url: str, headers: dict[str, str], limits: Limits) -> Answer:
    deadline = Deadline(limits.deadline)
    try:
        for _ in range(MAX_HOPS + 1):
            status, answer, location = _one_hop(url, headers, limits, deadline)
            if location is None:
                return _finish(status, answer, url)
            url = urljoin(url, location)
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


def _finish(status: int, answer: Answer, url: str) -> Answer:
    if status == 304:
        return Answer(None)
    if status != 200:
        raise FetchError(f"the server answered HTTP {status}")
    answer.url = url
    return answer


def _one_hop(url, headers, limits, deadline) -> tuple[int, Answer | None, str | None]:
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
        if response.status in REDIRECTS and response.getheader("Location"):
            return response.status, None, response.getheader("Location")
        if response.status != 200:
            return response.status, None, None
        body = _read(response, limits.max_bytes, deadline, limits.timeout)
        etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
        return (
            200,
            Answer(body, etag, modified, content_type=response.getheader("Content-Type")),
            None,
        )
    finally:
        deadline.watch(None)
        connection.close()


def _read(response, max_bytes: int, deadline: Deadline, timeout: float) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
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
