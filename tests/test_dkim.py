"""DKIM: every message signed with the configured key, verified by dkimpy as a receiver
would, against the public key published through a stub resolver."""

import dkim
from builders import DKIM_DOMAIN as DOMAIN
from builders import DKIM_SELECTOR as SELECTOR
from builders import add_readers, send_one_batch


def test_every_digest_is_signed_over_the_headers_that_matter(app, weekly, inbox, dns):
    send_one_batch(weekly, 3)
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
    send_one_batch(weekly, 1)
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
    send_one_batch(weekly, 1)
    assert "DKIM-Signature" not in inbox.messages[0].message


def test_the_key_command_writes_a_private_key_and_prints_its_record(app, runner, tmp_path):
    path = tmp_path / "dkim.pem"
    app.config.update(DKIM_SELECTOR=SELECTOR, DKIM_DOMAIN=DOMAIN)
    result = runner.invoke(args=["dkim", "key", str(path)])
    assert result.exit_code == 0, result.output
    assert f'{SELECTOR}._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=' in result.output
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert path.stat().st_mode & 0o077 == 0  # nobody else may read it
    again = runner.invoke(args=["dkim", "key", str(path)])
    assert again.exit_code != 0 and "not overwritten" in again.output
