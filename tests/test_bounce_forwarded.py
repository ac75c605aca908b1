"""A bounce forwarded in a person's own text, as mail clients write a forward (their source
and catalogs: Gmail's "Forwarded message", Outlook's "Original Message" and its German,
Apple Mail's quoted "Begin forwarded message", Thunderbird's tabbed fields, mutt's,
Roundcube's Persian): the bounce's verdict, naming the reader, never the person who
forwarded it. Before, the forward's header block was taken for the quoted original and
everything under it cut: the forward did nothing, or an Exim bounce was read from its copy
of our message alone.

Forwards of our issue and replies quoting it stay nothing.
"""

from __future__ import annotations

import pytest
from bounce_samples import DATE, SENDER, _crlf, classified, verp

READER = "reader@example.net"
COLLEAGUE = "colleague@example.com"
POSTFIX = (
    "This is the mail system at host out1.example.org.\n\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n\n"
    "                   The mail system\n\n"
    "<{reader}>: host mx.example.net[198.51.100.7] said: {said} (in reply to RCPT TO\n"
    "    command)\n"
)
EXIM = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  {reader}\n"
    "    host mx.example.net [198.51.100.7]\n"
    "    SMTP error from remote mail server after end of data:\n"
    "    {said}\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n"
    f"From: Example Weekly <{SENDER}>\nTo: {{reader}}\nSubject: This week: spring issue\n"
)
DAEMON = "Mail Delivery System <MAILER-DAEMON@out1.example.org>"
EXCHANGE = (
    "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.onmicrosoft.com>"
)
SUBJECT = "Undelivered Mail Returned to Sender"


def gmail(author: str, text: str, from_label: str = "From:") -> str:
    return (
        "---------- Forwarded message ---------\n"
        f"{from_label} {author}\nDate: Tue, Jan 14, 2025 at 9:30 AM\nSubject: {SUBJECT}\n"
        f"To: <{verp(READER)}>\n\n\n{text}"
    )


def outlook(author: str, text: str) -> str:
    return (
        f"-----Ursprüngliche Nachricht-----\nVon: {author}\n"
        f"Gesendet: Dienstag, 14. Januar 2025 10:30\nAn: {verp(READER)}\n"
        f"Betreff: {SUBJECT}\n\n{text}"
    )


def apple(author: str, text: str) -> str:
    block = (
        f"Begin forwarded message:\n\nFrom: {author}\nSubject: {SUBJECT}\n"
        f"Date: 14 January 2025 at 10:30:12 CET\nTo: {verp(READER)}\n\n{text}"
    )
    return "\n".join("> " + line if line else ">" for line in block.split("\n"))


def thunderbird(author: str, text: str) -> str:
    return (
        f"-------- Forwarded Message --------\nSubject: \t{SUBJECT}\nDate: \t{DATE}\n"
        f"From: \t{author}\nTo: \t{verp(READER)}\n\n\n\n{text}"
    )


def mutt(author: str, text: str) -> str:
    return (
        f"----- Forwarded message from {author} -----\n\nDate: {DATE}\nFrom: {author}\n"
        f"To: {verp(READER)}\nSubject: {SUBJECT}\n\n{text}\n----- End forwarded message -----\n"
    )


def roundcube_persian(author: str, text: str) -> str:
    return (
        f"-------- پیغام اصلی --------\nموضوع: {SUBJECT}\nتاریخ: 2025-01-14 10:30\n"
        f"از: {author}\nبه: {verp(READER)}\n\n{text}"
    )


def forward(block: str, *, subject: str = f"Fwd: {SUBJECT}") -> bytes:
    """A person's message to our bounce address: a line of their own, then the forward."""
    return _crlf(
        f"Return-Path: <{COLLEAGUE}>\nFrom: Colleague <{COLLEAGUE}>\n"
        "To: bounces@bounces.example.org\n"
        f"Subject: {subject}\nDate: {DATE}\nMessage-ID: <fwd.4711@mail.example.com>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n\nFYI, this one bounced.\n\n{block}\n"
    )


CLIENTS = [gmail, outlook, apple, thunderbird, mutt, roundcube_persian]


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "template, said, expected",
    [
        (
            POSTFIX,
            "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown",
            "hard",
        ),
        (POSTFIX, "550 5.7.1 Message rejected as spam", "sender"),
        (EXIM, "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown", "hard"),
        # read from the copy of our message alone, it was a soft failure of the reader's
        (EXIM, "550 5.7.1 Message rejected as spam", "sender"),
    ],
)
def test_a_bounce_forwarded_in_a_persons_text_is_read_as_the_bounce(
    client, template, said, expected
):
    raw = forward(client(DAEMON, template.format(reader=READER, said=said)))
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [(READER, expected)]


def test_exchange_onlines_report_forwarded_by_outlook_names_its_reader():
    text = (
        f"Your message to {READER} couldn't be delivered.\n\n"
        f"{READER}\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n"
    )
    raw = forward(outlook(EXCHANGE, text), subject=f"WG: Unzustellbar: {SUBJECT}")
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [(READER, "hard")]


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
def test_a_forward_of_our_issue_names_nobody(client):
    issue = f"Hello, here is this week's issue. Write to editor@example.org.\n\nTo: {READER}\n"
    raw = forward(client(f"Example Weekly <{SENDER}>", issue), subject="Fwd: This week")
    verdict = classified(raw)
    assert (verdict.kind, verdict.recipients) == ("none", [])


def test_a_daemons_address_quoted_in_a_persons_reply_is_no_forward():
    """A reader answering us about a bounce they got: their words, not a report."""
    text = (
        "Thanks, I had a typo in my address. The postmaster said:\n\n"
        f"From: {DAEMON}\n> could not be delivered\n"
    )
    raw = forward(text, subject="Re: This week: spring issue")
    assert classified(raw).recipients == []
