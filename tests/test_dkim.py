"""DKIM: every message signed with the configured key, verified by dkimpy as a receiver
would, against the public key published through a stub resolver."""

from email import message_from_bytes, policy

import dkim
from builders import DKIM_DOMAIN as DOMAIN
from builders import DKIM_SELECTOR as SELECTOR
from builders import add_subscribers, as_rfc2047_reads_it, draft, send_one_batch

from newsletter.digest.render import render_issue
from newsletter.sending.letter import IssueLetter


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

    [reader] = add_subscribers(weekly, 1, status="unconfirmed")
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


PERSONAL = [
    ("ana@example.org", "Ana"),
    ("sara@example.org", "سارا محمدی"),  # Persian: an encoded word in To
    ("reza@bücher.example", " ".join(["رضا"] * 40)),  # too long for one line: a folded To
    ("bo@example.org", ""),
]


def test_copies_signed_from_what_an_issue_shares_each_verify(app, make_list, dns):
    persian = make_list(
        slug="hafteh", name="خبرنامه هفتگی " * 8, from_name="نشر نمونه", reply_to="re@example.org"
    )
    issue = draft(persian)
    html, text = render_issue(issue)
    letter = IssueLetter(issue, html, text, subject="گزیده هفته: " + "واژه " * 30)
    copies = [
        bytes(letter.build(n, n, email, name)) for n, (email, name) in enumerate(PERSONAL, start=1)
    ]
    assert len(set(copies)) == len(PERSONAL)
    for (email, name), raw in zip(PERSONAL, copies, strict=True):
        assert dkim.verify(raw, dnsfunc=dns)
        message = message_from_bytes(raw, policy=policy.default)
        [to] = message["To"].addresses
        assert to.username == email.split("@")[0]
        if name:  # as mail programs read it (CPython's parser spaces encoded words apart)
            assert as_rfc2047_reads_it(dict(message.raw_items())["To"]) == name
        unsubscribe = message["List-Unsubscribe"]
        assert unsubscribe.count("/unsubscribe/") == 1 and "unsubscribe%20" in unsubscribe
        # Each copy's own values are in its body, and tampering with them is caught.
        link = unsubscribe.split("<", 1)[1].split(">", 1)[0]
        assert link in message.get_body(("plain",)).get_content()
        other = raw.replace(link.rsplit("/", 1)[1].encode()[:12], b"x" * 12)
        assert other != raw and not dkim.verify(other, dnsfunc=dns)


def test_relaxed_header_values_are_dkimpys():
    from dkim.canonicalization import Relaxed

    from newsletter.signing import relaxed

    for value in (b" a  b\r\n\tc \t", b"=?utf-8?b?2LPYp9ix2Kc=?=\r\n <a@b.org>", b"x", b" \t "):
        [(_, expected)] = Relaxed.canonicalize_headers([(b"To", value)])
        assert relaxed(value) + b"\r\n" == expected
