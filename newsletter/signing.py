"""DKIM signatures (RFC 6376) on every message, when a key is configured.

dkimpy canonicalises (relaxed headers, simple body) exactly as verifiers do; the RSA step
runs in `cryptography`, because dkimpy's own, in pure Python, takes milliseconds a message
and every subscriber's copy differs (links, To, Message-ID), so each needs its own. What the
copies of an issue share is hashed once (`Shared`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from dkim.canonicalization import CanonicalizationPolicy
from flask import current_app, has_app_context

from newsletter.addresses import ascii_domain

POLICY = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
# Made once: building them per signature costs as much as hashing the headers.
PKCS1 = padding.PKCS1v15()
PREHASHED = utils.Prehashed(hashes.SHA256())
# Signed when present: what a receiver shows, threads and acts on (RFC 8058 asks for the
# List-Unsubscribe pair to be covered).
SIGNED = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


class Signer:
    def __init__(self, domain: str, selector: str, key_pem: bytes):
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.key = serialization.load_pem_private_key(key_pem, password=None)

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front."""
        # Parsed up to the blank line only: dkimpy's parser walks every line it is given.
        blank = message.find(b"\r\n\r\n")
        end = len(message) if blank < 0 else blank + 4
        headers, _ = dkim.rfc822_parse(message[:end])
        body = POLICY.canonicalize_body(message[end:])
        return Shared(self, headers, [], b"").header([], body) + message


class Shared:
    """Signing many copies of one message that differ in a few headers and body parts.

    What every copy shares is canonicalised and hashed once: the shared headers, listed
    first in h= (a verifier hashes headers in the order h= names them), the body up to its
    first personal part (a hash state can be copied and carried on), and the folded start
    of the signature's own header. Per copy there is left the personal headers, the rest of
    the body, and the RSA signature.
    """

    def __init__(
        self,
        signer: Signer,
        shared: list[tuple[bytes, bytes]],
        personal: list[bytes],
        body_start: bytes,
    ):
        self.signer = signer
        present = {name.lower() for name in personal}
        self.personal = [name for name in SIGNED if name in present]
        # The last of a name is the one a verifier takes.
        by_name = {name.lower(): value for name, value in shared if name.lower() in SIGNED}
        names = [name for name in SIGNED if name in by_name]
        self.headers_hash = hashlib.sha256()
        for name in names:
            self.headers_hash.update(name + b":" + relaxed(by_name[name]) + b"\r\n")
        self.body_hash = hashlib.sha256(body_start)
        # Folded between fields and at the spaces of h=; unfolding gives the value back.
        fields = b"v=1; a=rsa-sha256; c=relaxed/simple; d=%s; s=%s;" % (
            signer.domain,
            signer.selector,
        )
        folded = dkim.fold(b"h=" + b" : ".join(names + self.personal) + b";", namelen=1)
        # The header's value with t= and bh= to fill in, and its relaxed form: neither
        # value has a space, so filling in and relaxing can be done in either order.
        fixed = [part.replace(b"%", b"%%") for part in (fields, folded)]
        self.value = b"%s\r\n t=%%d; %s\r\n bh=%%s;\r\n b=" % tuple(fixed)
        self.hashed = b"dkim-signature:" + relaxed(self.value)
        # Where each personal header, in the order named when prepared, goes in h=.
        order = {name: n for n, name in enumerate(name.lower() for name in personal)}
        self.picks = [(order[name], name + b":") for name in self.personal]

    def header(self, personal: list[bytes], body: bytes) -> bytes:
        """The DKIM-Signature header line of one copy: its personal header values, in the
        order their names were given when prepared, and its body after the shared start,
        already canonical."""
        body_hash = self.body_hash.copy()
        body_hash.update(body)  # one buffer: one call, and the GIL let go once
        filled = (int(time.time()), base64.b64encode(body_hash.digest()))
        hasher = self.headers_hash.copy()
        # Hashed last, the signature's own header, with b= empty and no CRLF (RFC 6376 3.7).
        hasher.update(
            b"".join(
                [name + relaxed(personal[n]) + b"\r\n" for n, name in self.picks]
                + [self.hashed % filled]
            )
        )
        signature = base64.b64encode(self.signer.key.sign(hasher.digest(), PKCS1, PREHASHED))
        lines = [signature[start : start + 72] for start in range(0, len(signature), 72)]
        return b"DKIM-Signature: " + self.value % filled + b"\r\n ".join(lines) + b"\r\n"


_WSP = re.compile(rb"[ \t]+")


def relaxed(value: bytes) -> bytes:
    """A header value canonicalised as "relaxed" (RFC 6376 3.4.2): unfolded, runs of
    spaces and tabs made one space, none at either end; the name is lowercased apart."""
    value = value.replace(b"\r\n", b"")
    if b"  " in value or b"\t" in value:  # rare in what we write: skip the regex
        value = _WSP.sub(b" ", value)
    return value.strip(b" \t")


def new_key() -> tuple[bytes, str]:
    """A fresh 2048-bit RSA key: the private half as PEM, and the TXT record that publishes
    the public half at <selector>._domainkey.<domain>."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii")


@functools.lru_cache(maxsize=4)
def _signer(domain: str, selector: str, key_file: str) -> Signer:
    return Signer(domain, selector, Path(key_file).read_bytes())


def configured() -> Signer | None:
    """The configured key's signer; None when DKIM is not configured (or outside the app,
    where messages are only built, as in the outbox's own tests)."""
    config = current_app.config if has_app_context() else {}
    if not config.get("DKIM_KEY_FILE"):
        return None
    return _signer(config["DKIM_DOMAIN"], config["DKIM_SELECTOR"], config["DKIM_KEY_FILE"])


def aligned(address: str) -> bool | None:
    """Whether mail From `address` passes DMARC's relaxed alignment with our signature's d=,
    which Gmail and Yahoo ask of bulk senders since 2024: the same domain, or one under the
    other (with no list of public suffixes, two sibling subdomains read as not aligned).
    None when nothing is signed."""
    config = current_app.config
    if not config.get("DKIM_KEY_FILE"):
        return None
    signer = config["DKIM_DOMAIN"].lower().rstrip(".")
    try:
        sender = ascii_domain(address.rpartition("@")[2]).lower()
    except UnicodeError:  # no domain (older data): no signature can align with it
        return False
    return any(a == b or a.endswith("." + b) for a, b in ((sender, signer), (signer, sender)))


def sign(message: bytes) -> bytes:
    """Signed with the configured key; unchanged when DKIM is not configured."""
    signer = configured()
    return signer.sign(message) if signer else message
