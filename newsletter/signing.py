"""DKIM signatures (RFC 6376) on every message, when a key is configured.

dkimpy parses and canonicalises (relaxed headers, simple body) exactly as verifiers do; the
RSA step runs in `cryptography`, because dkimpy's own, in pure Python, takes milliseconds a
message and every reader's copy differs (links, To, Message-ID), so each needs its own.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from dkim.canonicalization import CanonicalizationPolicy
from flask import current_app, has_app_context

POLICY = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
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
        body = message[end:]
        present = {name.lower() for name, _ in headers}
        include = [name for name in SIGNED if name in present]
        body_hash = base64.b64encode(hashlib.sha256(POLICY.canonicalize_body(body)).digest())
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", b"relaxed/simple"),
            (b"d", self.domain),
            (b"s", self.selector),
            (b"t", str(int(time.time())).encode()),
            (b"h", b" : ".join(include)),  # spaces, so folding breaks between names
            (b"bh", body_hash),
            (b"b", b""),
        ]
        value = b" " + b"; ".join(b"=".join(field) for field in fields)
        hasher = hashlib.sha256()
        dkim.hash_headers(
            hasher,
            POLICY,
            POLICY.canonicalize_headers(headers),
            include,
            (b"DKIM-Signature", value),
            dict(fields),
        )
        signature = self.key.sign(
            hasher.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )
        header = dkim.fold(value + base64.b64encode(signature), namelen=len("DKIM-Signature"))
        return b"DKIM-Signature:" + header + b"\r\n" + message


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


def sign(message: bytes) -> bytes:
    """Signed with the configured key; unchanged when DKIM is not configured (or outside
    the app, where messages are only built, as in the outbox's own tests)."""
    config = current_app.config if has_app_context() else {}
    if not config.get("DKIM_KEY_FILE"):
        return message
    return _signer(config["DKIM_DOMAIN"], config["DKIM_SELECTOR"], config["DKIM_KEY_FILE"]).sign(
        message
    )
