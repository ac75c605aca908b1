"""`newsletter bounces fetch`: bounces read from a mailbox over IMAP or POP3, then deleted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, complaint, dsn
from builders import send_one_batch, stored_subscriber
from mailboxes import ImapServer, Mailbox, Pop3Server, self_signed

from newsletter.bounces.mailbox import MailboxError, fetch
from newsletter.extensions import db
from newsletter.models import Bounce

SERVERS = {"imap": ImapServer, "pop3": Pop3Server}


def returned(inbox, index: int, status: str, said: str = "") -> bytes:
    """A DSN about the index-th message sent, delivered to its return path (a mailbox adds
    Delivered-To, which is where the poller finds the VERP address)."""
    message = inbox.messages[index]
    body = dsn(message.recipients[0], status, to=f"bounces@{BOUNCE_DOMAIN}", said=said)
    return f"Delivered-To: {message.sender}\r\n".encode() + body


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SERVERS)
def test_bounces_in_a_mailbox_are_read_and_deleted(app, weekly, inbox, scheme):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    send_one_batch(weekly, 3)
    not_a_bounce = b"From: reader2@example.org\r\nSubject: Thanks!\r\n\r\nLovely issue.\r\n"
    full = returned(inbox, 1, "5.2.2", said="552 5.2.2 Mailbox full")
    box = Mailbox([returned(inbox, 0, "5.1.1"), full, not_a_bounce, complaint("")])
    with SERVERS[scheme](box) as server:
        count = fetch(f"{scheme}://bounces:secret@{server.host}:{server.port}/INBOX")
    assert count == 4
    assert box.messages == [] and len(box.deleted) == 4
    first, second = (inbox.messages[i].recipients[0] for i in (0, 1))
    assert stored_subscriber(first).status == "bounced"
    assert (
        stored_subscriber(second).status == "active"
        and stored_subscriber(second).bounce_score == 1.0
    )
    assert db.session.scalars(sa.select(Bounce.source).distinct()).all() == [scheme]


@pytest.mark.parametrize("scheme", SERVERS)
def test_a_wrong_password_is_a_clear_error_and_deletes_nothing(app, scheme):
    box = Mailbox([dsn("someone@example.org", "5.1.1")])
    with SERVERS[scheme](box) as server:
        with pytest.raises(MailboxError) as error:
            fetch(f"{scheme}://bounces:wrong@{server.host}:{server.port}/")
    assert f"{scheme}://127.0.0.1" in str(error.value)
    assert len(box.messages) == 1 and box.deleted == []


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SERVERS)
def test_a_dead_database_leaves_the_messages_in_the_box(app, weekly, inbox, make_app, scheme):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    send_one_batch(weekly, 1)
    box = Mailbox([returned(inbox, 0, "5.1.1")])
    broken = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none", BOUNCE_DOMAIN=BOUNCE_DOMAIN
    )
    with SERVERS[scheme](box) as server:
        url = f"{scheme}://bounces:secret@{server.host}:{server.port}/INBOX"
        with broken.app_context(), pytest.raises(sa.exc.OperationalError):
            fetch(url)
        assert len(box.messages) == 1 and box.deleted == []
        assert fetch(url) == 1  # the next poll, with the database back
    assert stored_subscriber(inbox.messages[0].recipients[0]).status == "bounced"


def test_the_fetch_command_reads_the_configured_mailbox(app, runner):
    assert "NEWSLETTER_BOUNCE_MAILBOX" in runner.invoke(args=["bounces", "fetch"]).output
    answer = runner.invoke(args=["bounces", "fetch", "ftp://example.org/"])
    assert answer.exit_code != 0 and "imap://" in answer.output
    box = Mailbox([b"Subject: hello\r\n\r\nnot a bounce\r\n"])
    with Pop3Server(box) as server:
        app.config["BOUNCE_MAILBOX"] = f"pop3://bounces:secret@{server.host}:{server.port}"
        answer = runner.invoke(args=["bounces", "fetch"])
    assert answer.exit_code == 0 and "1 message read" in answer.output
    assert box.messages == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: its PEM file, and a server context with it."""
    import ssl

    pem, key_file = self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem, key_file)
    return SimpleNamespace(pem=str(pem), context=context)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SERVERS)
def test_a_box_over_tls_is_read_only_when_its_certificate_checks_out(
    app, certificate, monkeypatch, scheme
):
    """imaplib's and poplib's own TLS checks no certificate, so whoever sat between us and
    the box got the password: a certificate no authority vouches for is refused now, before
    the login; SSL_CERT_FILE names a private authority's."""
    box = Mailbox([dsn("someone@example.org", "5.1.1")])
    with SERVERS[scheme](box, tls=certificate.context) as server:
        url = f"{scheme}s://bounces:secret@{server.host}:{server.port}/"
        with pytest.raises(MailboxError) as error:
            fetch(url)
        assert "certificate" in str(error.value).lower()
        assert len(box.messages) == 1
        monkeypatch.setenv("SSL_CERT_FILE", certificate.pem)
        assert fetch(url) == 1
    assert box.messages == []
