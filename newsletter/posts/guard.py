"""Which addresses the server may fetch a feed from: public ones, or hosts the operator named.

Anyone who can add a feed chooses a URL the server connects to, so loopback, private,
link-local and reserved addresses are refused after resolving the name, however it is
written (0x7f000001, [::1], ::ffff:127.0.0.1 and 6to4 or NAT64 forms of them among them).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """An address we will not connect to; the message says so and nothing more."""


def is_public(ip: IPAddress) -> bool:
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not ip.is_multicast


def allowed_hosts(setting: str | None) -> set[tuple[str, int | None]]:
    """NEWSLETTER_FEED_ALLOW_HOSTS: 'host' (any port) or 'host:port', separated by commas."""
    hosts = set()
    for entry in (setting or "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.count(":") > 1 and not entry.startswith("["):
            hosts.add((entry, None))  # a bare IPv6 address
            continue
        parts = urlsplit("//" + entry)
        hosts.add((parts.hostname or "", parts.port))
    return hosts


def _named(host: str, port: int, allowed: set[tuple[str, int | None]]) -> bool:
    host = host.lower().rstrip(".")
    return (host, port) in allowed or (host, None) in allowed


def target(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL; Refused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("address not allowed") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused("only http and https addresses are fetched")
    if not parts.hostname:
        raise Refused("address not allowed")
    return scheme, parts.hostname, port or SCHEMES[scheme]


def _addresses(host: str, port: int, flags: int = 0) -> list[tuple]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    return [(family, address) for family, _, _, _, address in found]


def resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """getaddrinfo within `timeout`: it cannot be interrupted, so it runs in a thread."""
    outcome: dict = {}

    def run():
        try:
            outcome["addresses"] = _addresses(host, port)
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError("name lookup timed out")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["addresses"]


def check(host: str, port: int, addresses: list[tuple], allow_setting: str | None) -> None:
    """Refused unless every address is public or the operator named this host."""
    if _named(host, port, allowed_hosts(allow_setting)):
        return
    for _, address in addresses:
        if not is_public(ipaddress.ip_address(address[0].split("%")[0])):
            raise Refused("address not allowed")


def check_url_literally(url: str, allow_setting: str | None) -> None:
    """The check that needs no DNS, for when a feed is added: the scheme, and a host written
    as an address (in any form the resolver reads as one). Names are checked at fetch time."""
    _, host, port = target(url)
    try:
        addresses = _addresses(host, port, socket.AI_NUMERICHOST)
    except OSError:
        return  # a name
    check(host, port, addresses, allow_setting)
