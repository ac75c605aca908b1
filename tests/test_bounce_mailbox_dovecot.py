"""The bounce poller (`newsletter bounces fetch`) against a real Dovecot (tests/dovecot.py),
over imap://, imaps://, pop3://, pop3s:// and ?tls=starttls: what tests/test_bounce_mailbox.py
asks of its small servers, and what a real box brings: its certificate, 2,000 messages, a
5 MB one, a line longer than poplib takes, two pollers at once, folders with a space or a
Persian name, odd logins, and a poll killed half way."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, complaint, dsn
from builders import send_one_batch, stored_subscriber
from dovecot import WAYS, Dovecot

from newsletter.bounces.mailbox import MailboxError, fetch
from newsletter.extensions import db
from newsletter.models import Bounce

pytestmark = pytest.mark.slow  # each case starts a Dovecot

TLS_WAYS = ["imaps", "pop3s", "imap+starttls", "pop3+starttls"]
NOTE = b"From: reader2@example.org\r\nSubject: Thanks!\r\n\r\nLovely issue.\r\n"
STATUS = {"hard": "5.1.1", "soft": "5.2.2"}


@pytest.fixture
def dovecot(monkeypatch):
    """A private Dovecot whose certificate the poller trusts (SSL_CERT_FILE)."""
    with Dovecot() as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        yield server


@pytest.fixture
def bounces(app):
    """Bounce settings; the mass-bounce guard off, as these boxes return many dead copies."""
    app.config.update(BOUNCE_DOMAIN=BOUNCE_DOMAIN, DEAD_ADDRESSES_PAUSE=0)
    return app


def report(inbox, index: int, kind: str) -> bytes:
    """A hard or soft DSN, or a complaint, about the index-th copy sent, delivered to its
    return path (Delivered-To, as the mailbox's delivery agent adds it)."""
    message = inbox.messages[index]
    reader = message.recipients[0]
    if kind == "complaint":
        body = complaint(reader)
    else:
        said = "552 5.2.2 Mailbox full" if kind == "soft" else ""
        body = dsn(reader, STATUS[kind], to=f"bounces@{BOUNCE_DOMAIN}", said=said)
    return f"Delivered-To: {message.sender}\r\n".encode() + body


def whole_return(inbox, index: int, body: bytes) -> bytes:
    """A DSN returning the whole message (Postfix's default), its body `body` (a MIME body
    with its own headers): the copy's own headers are kept."""
    message = inbox.messages[index]
    reader = message.recipients[0]
    head = message.data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    kept = re.findall(rb"^(?:From|To|Subject|Date|Message-ID):.*(?:\n[ \t].*)*", head, re.M | re.I)
    original = b"\n".join(kept).replace(b"\n", b"\r\n") + b"\r\nMIME-Version: 1.0\r\n" + body
    return (
        (
            f"Delivered-To: {message.sender}\r\n"
            "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
            f"To: bounces@{BOUNCE_DOMAIN}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\n"
            f"Your message could not be delivered to <{reader}>.\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {reader}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
            "--b\r\nContent-Type: message/rfc822\r\n\r\n"
        ).encode()
        + original
        + b"\r\n--b--\r\n"
    )


def bounce_rows() -> list[tuple[int, str, int]]:
    """(delivery id, kind, how many Bounce rows) for each delivery with any."""
    db.session.expire_all()
    query = sa.select(Bounce.delivery_id, Bounce.kind, sa.func.count()).group_by(
        Bounce.delivery_id, Bounce.kind
    )
    return [tuple(row) for row in db.session.execute(query)]


def reports_recorded(count: int, while_running, timeout: float = 60) -> None:
    """Wait until `count` Bounce rows are committed, or the poll has ended."""
    deadline = time.monotonic() + timeout
    while while_running() and time.monotonic() < deadline:
        recorded = db.session.scalar(sa.select(sa.func.count()).select_from(Bounce))
        db.session.commit()
        if recorded >= count:
            return
        time.sleep(0.005)


def assert_acted_on_once(inbox, kinds: list[str]) -> None:
    """One Bounce a reported copy, and each reader in the state its report leaves."""
    rows = bounce_rows()
    assert sorted(kind for _, kind, _ in rows) == sorted(kinds)
    assert [count for _, _, count in rows] == [1] * len(kinds)
    for index, kind in enumerate(kinds):
        reader = stored_subscriber(inbox.messages[index].recipients[0])
        if kind == "hard":
            assert reader.status == "bounced", reader.email
        elif kind == "soft":
            assert (reader.status, reader.bounce_score) == ("active", 1.0), reader.email
        else:
            assert reader.status == "complained", reader.email


# --- What the small servers' tests ask -----------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_bounces_in_a_real_box_are_read_acted_on_and_deleted(bounces, weekly, inbox, dovecot, way):
    send_one_batch(weekly, 3)
    dovecot.put([report(inbox, 0, "hard"), report(inbox, 1, "soft"), NOTE, complaint("")])
    assert fetch(dovecot.url(way)) == 4
    assert dovecot.files() == []
    assert_acted_on_once(inbox, ["hard", "soft"])
    assert db.session.scalars(sa.select(Bounce.source).distinct()).all() == [WAYS[way][0]]


@pytest.mark.parametrize("way", WAYS)
def test_a_wrong_password_is_a_clear_error_and_deletes_nothing(app, dovecot, way):
    dovecot.put([dsn("someone@example.org", "5.1.1")])
    with pytest.raises(MailboxError) as error:
        fetch(dovecot.url(way, password="wrong"))
    assert f"{WAYS[way][0]}://127.0.0.1" in str(error.value)
    assert len(dovecot.files()) == 1 and dovecot.flagged_deleted() == []


@pytest.mark.parametrize("way", WAYS)
def test_a_dead_database_leaves_the_messages_in_the_box(
    bounces, weekly, inbox, make_app, dovecot, way
):
    send_one_batch(weekly, 1)
    dovecot.put([report(inbox, 0, "hard")])
    broken = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none", BOUNCE_DOMAIN=BOUNCE_DOMAIN
    )
    with broken.app_context(), pytest.raises(sa.exc.OperationalError):
        fetch(dovecot.url(way))
    assert len(dovecot.files()) == 1 and dovecot.flagged_deleted() == []
    assert fetch(dovecot.url(way)) == 1  # the next poll, with the database back
    assert dovecot.files() == []
    assert_acted_on_once(inbox, ["hard"])


# --- Its certificate -----------------------------------------------------------------------


@pytest.mark.parametrize("way", TLS_WAYS)
def test_a_certificate_no_authority_vouches_for_is_refused_before_the_login(
    app, dovecot, monkeypatch, way
):
    monkeypatch.delenv("SSL_CERT_FILE")
    dovecot.put([dsn("someone@example.org", "5.1.1")])
    with pytest.raises(MailboxError) as error:
        fetch(dovecot.url(way))
    assert "certificate" in str(error.value).lower()
    assert dovecot.logins() == []  # the password never went
    assert [name[:4] for name in dovecot.files()] == ["new/"]  # not even looked at
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.certificate))
    assert fetch(dovecot.url(way)) == 1
    assert dovecot.files() == []


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_starttls_asked_for_but_not_offered_sends_no_password(app, scheme):
    """A box (or a man in the middle) that offers no STARTTLS: no fall back to clear text."""
    with Dovecot(tls=False) as server:
        server.put([dsn("someone@example.org", "5.1.1")])
        with pytest.raises(MailboxError):
            fetch(server.url(f"{scheme}+starttls"))
        assert server.logins() == []
        assert len(server.files()) == 1


# --- What a real box brings ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_a_box_of_2000_messages_is_read_in_one_poll(bounces, weekly, inbox, dovecot, scheme):
    send_one_batch(weekly, 20)
    messages = [NOTE] * 2000
    for index in range(20):
        messages[index * 100 + 50] = report(inbox, index, "hard")
    dovecot.put(messages)
    assert fetch(dovecot.url(scheme)) == 2000
    assert dovecot.files() == []
    assert_acted_on_once(inbox, ["hard"] * 20)


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_a_message_of_5_mb_is_read(bounces, weekly, inbox, dovecot, scheme):
    """Postfix returns the whole message: here one with a 5 MB attachment (76-byte lines)."""
    send_one_batch(weekly, 1)
    attachment = base64.encodebytes(os.urandom(3_900_000)).replace(b"\n", b"\r\n")
    body = (
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n'
        b"--o\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis week's issue.\r\n"
        b'--o\r\nContent-Type: application/pdf; name="issue.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"--o--\r\n"
    )
    message = whole_return(inbox, 0, body)
    assert len(message) > 5_000_000
    dovecot.put([message])
    assert fetch(dovecot.url(scheme)) == 1
    assert dovecot.files() == []
    assert_acted_on_once(inbox, ["hard"])


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_a_line_longer_than_2048_bytes_does_not_stop_the_box(
    bounces, weekly, inbox, dovecot, scheme
):
    """RFC 5322 caps lines at 998 bytes, but HTML mail breaks it and Dovecot keeps what it
    was given; the message after it must be read too, in this poll and the next."""
    send_one_batch(weekly, 2)
    html = b"<p>" + b"A long paragraph of this week's issue. " * 80 + b"</p>"
    assert len(html) > 3000
    body = b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html + b"\r\n"
    dovecot.put([whole_return(inbox, 0, body), report(inbox, 1, "hard")])
    assert fetch(dovecot.url(scheme)) == 2
    assert dovecot.files() == []
    assert_acted_on_once(inbox, ["hard", "hard"])


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_two_pollers_at_once_act_on_each_message_once(bounces, weekly, inbox, dovecot, scheme):
    """Beat polls every 5 minutes and an editor may run `bounces fetch` meanwhile: both
    read the same box of 200, the second starting once the first has acted on 20 of the 30
    reports, so the first ends (and expunges) while the second is still reading. (Started
    together, the two wait on each other's row locks and keep in step.) Each report counts
    once, and neither poll fails for the other."""
    send_one_batch(weekly, 30)
    kinds = ["hard"] * 10 + ["soft"] * 10 + ["complaint"] * 10
    messages = [NOTE] * 200
    for index, kind in enumerate(kinds):
        messages[index * 6] = report(inbox, index, kind)
    dovecot.put(messages)
    url = dovecot.url(scheme)
    counts: dict[int, int] = {}
    errors: dict[int, BaseException] = {}

    def poll(number: int) -> None:
        with bounces.app_context():
            try:
                counts[number] = fetch(url)
            except BaseException as exc:  # noqa: B036 - reported below, whatever it is
                errors[number] = exc

    pollers = [threading.Thread(target=poll, args=(number,)) for number in (1, 2)]
    pollers[0].start()
    reports_recorded(20, while_running=pollers[0].is_alive)
    pollers[1].start()
    for poller in pollers:
        poller.join(timeout=120)
    assert_acted_on_once(inbox, kinds)
    assert dovecot.files() == []
    assert errors == {}, f"a poll failed because the other took its messages: {errors!r}"
    assert sum(counts.values()) >= 200


@pytest.mark.parametrize("folder", ["Bounces 2024", "برگشتی"])
def test_a_folder_with_a_space_or_a_persian_name(bounces, weekly, inbox, dovecot, folder):
    """The URL's path names the folder, %-encoded UTF-8 (RFC 5092); IMAP wants a name with
    a space quoted, and a Persian one in modified UTF-7 (on disk: .&BigGMQavBjQGKgbM-)."""
    send_one_batch(weekly, 3)
    dovecot.create_folder(folder)
    dovecot.put([report(inbox, 0, "hard")], folder)
    dovecot.put([report(inbox, 1, "hard")])  # in INBOX: not this poll's
    first_word = folder.split()[0]
    if first_word != folder:  # "Bounces" besides "Bounces 2024": not this poll's either
        dovecot.create_folder(first_word)
        dovecot.put([report(inbox, 2, "hard")], first_word)
    assert fetch(dovecot.url("imap", folder=folder)) == 1
    assert dovecot.files(folder) == [] and len(dovecot.files()) == 1
    if first_word != folder:
        assert len(dovecot.files(first_word)) == 1
    assert_acted_on_once(inbox, ["hard"])


@pytest.mark.parametrize(
    "scheme, password",
    [
        (scheme, password)
        for scheme in ("imap", "pop3")
        for password in ('p"ss w\\rd%@#', "رمز عبور")
    ],
)
def test_a_login_that_is_an_address_and_an_odd_password(app, scheme, password):
    """Hosted boxes log in with the address; a password may hold anything but a colon
    (passwd-file's separator), a Persian passphrase too."""
    with Dovecot(user="bounces@example.org", password=password) as server:
        server.put([NOTE])
        assert fetch(server.url(scheme)) == 1
        assert server.files() == []


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_a_poll_killed_half_way_leaves_the_rest_to_the_next_which_acts_once(
    bounces, weekly, inbox, inbox_server, backends, dovecot, tmp_path, scheme
):
    """`newsletter bounces fetch` as its own process, SIGKILLed once 15 of 60 reports are
    committed: over IMAP the messages it had read stay in the box flagged \\Deleted, over
    POP3 it never said QUIT; the next poll reads them all again and acts on each once."""
    send_one_batch(weekly, 60)
    kinds = ["hard", "soft", "complaint"] * 20
    messages = []
    for index, kind in enumerate(kinds):
        messages += [report(inbox, index, kind), NOTE, NOTE]
    dovecot.put(messages + [NOTE] * 20)
    url = dovecot.url(scheme)
    environment = {
        **os.environ,
        **backends.env(),
        "NEWSLETTER_SMTP_URL": inbox_server.url,
        "NEWSLETTER_BASE_URL": "http://newsletter.test",
        "NEWSLETTER_MAIL_DOMAIN": "newsletter.test",
        "NEWSLETTER_SECRET_KEY": bounces.config["SECRET_KEY"],
        "NEWSLETTER_BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "NEWSLETTER_DEAD_ADDRESSES_PAUSE": "0",
    }
    log = open(tmp_path / "fetch.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "bounces", "fetch", url],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    log.close()
    reports_recorded(15, while_running=lambda: process.poll() is None)
    process.send_signal(signal.SIGKILL)
    process.wait()
    output = (tmp_path / "fetch.log").read_text(errors="replace")
    assert process.returncode == -signal.SIGKILL, f"the poll ended before the kill:\n{output}"
    recorded = len(bounce_rows())
    assert 15 <= recorded < 60
    assert len(dovecot.files()) == 200  # nothing expunged
    if scheme == "imap":
        assert len(dovecot.flagged_deleted()) >= 15
    assert fetch(url) == 200
    assert dovecot.files() == []
    assert_acted_on_once(inbox, kinds)
