"""DKIM: every message signed with the configured key, verified by dkimpy as a receiver
would, against the public key published through a stub resolver."""

import base64
from datetime import UTC, datetime

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from test_sending import add_readers, draft

from newsletter.sending import batch, lifecycle

SELECTOR = "news2026"
DOMAIN = "example.org"


@pytest.fixture
def dns(app, tmp_path):
    """A fresh key: the private half configured, the public half in a stub resolver."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    records = {f"{SELECTOR}._domainkey.{DOMAIN}.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)}
    app.config.update(DKIM_KEY_FILE=str(key_file), DKIM_SELECTOR=SELECTOR, DKIM_DOMAIN=DOMAIN)

    def resolve(name, timeout=5):
        return records.get(name.decode() if isinstance(name, bytes) else name)

    return resolve


def test_every_digest_is_signed_over_the_headers_that_matter(app, weekly, inbox, dns):
    add_readers(weekly, 3)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    lifecycle.claim_due_issues()
    batch.send_batch(issue.id)
    assert len(inbox.messages) == 3
    for received in inbox.messages:
        assert dkim.verify(received.data, dnsfunc=dns)
        signature = received.message["DKIM-Signature"]
        signed = dict(
            part.strip().split("=", 1) for part in signature.replace("\r\n", "").split(";")
        )
        assert (signed["d"], signed["s"], signed["a"]) == (DOMAIN, SELECTOR, "rsa-sha256")
        names = set("".join(signed["h"].split()).split(":"))
        for name in ("from", "subject", "date", "message-id", "list-id"):
            assert name in names
        assert {"list-unsubscribe", "list-unsubscribe-post"} <= names


def test_a_changed_message_fails_verification(app, weekly, inbox, dns):
    add_readers(weekly, 1)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    lifecycle.claim_due_issues()
    batch.send_batch(issue.id)
    [received] = inbox.messages
    other_link = received.data.replace(b"List-Unsubscribe: <http", b"List-Unsubscribe: <gttp", 1)
    assert other_link != received.data
    assert not dkim.verify(other_link, dnsfunc=dns)
    assert not dkim.verify(received.data.replace(b"Hello", b"Hullo", 1), dnsfunc=dns)


def test_notices_are_signed_too(app, weekly, inbox, dns):
    from newsletter.subscriptions import notices

    [reader] = add_readers(weekly, 1, status="unconfirmed")
    assert notices.send_notice("confirm", reader.subscriptions[0].id)
    [received] = inbox.wait_for(1)
    assert received.message["Subject"].startswith("Please confirm")
    assert dkim.verify(received.data, dnsfunc=dns)


def test_without_a_key_nothing_is_signed(app, weekly, inbox):
    add_readers(weekly, 1)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    lifecycle.claim_due_issues()
    batch.send_batch(issue.id)
    assert "DKIM-Signature" not in inbox.messages[0].message
