"""Bounce and complaint messages as mail servers write them, for the tests and bench/bounces.py."""

from __future__ import annotations

BOUNCE_DOMAIN = "bounces.example.org"
# The MTA in front of `bounces serve` whose Authentication-Results are trusted for posts.
INBOUND_MX = "mx.example.org"
POSTS = f"posts+weekly@{BOUNCE_DOMAIN}"


def dsn(
    recipient: str,
    status: str,
    original: bytes = b"",
    to: str = "",
    said: str = "",
    action: str = "",
) -> bytes:
    """An RFC 3464 delivery status notification, as Postfix writes them (CRLF).

    `said` is the remote server's reply; a 4.x.x status is a delay warning unless `action`
    says otherwise."""
    action = action or ("failed" if status.startswith("5") else "delayed")
    said = said or f"{status[0]}50 {status} mailbox trouble"
    text = (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        f"To: {to or 'bounces@' + BOUNCE_DOMAIN}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message could not be delivered to <{recipient}>.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {said}\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    )
    return text.encode() + original + b"\r\n--b--\r\n"


def complaint(recipient: str, original: bytes = b"", mail_from: str = "") -> bytes:
    """An RFC 5965 feedback report; `mail_from`, its Original-Mail-From field."""
    sender = f"Original-Mail-From: <{mail_from}>\r\n".encode() if mail_from else b""
    return (
        b"From: fbl@mailbox.example.net\r\nTo: fbl@" + BOUNCE_DOMAIN.encode() + b"\r\n"
        b"Subject: Abuse report\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nA reader marked this as spam.\r\n"
        b"--b\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: abuse\r\nUser-Agent: Example-FBL/1.0\r\nVersion: 1\r\n"
        + sender
        + b"Original-Rcpt-To: "
        + recipient.encode()
        + b"\r\n\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" + original + b"\r\n--b--\r\n"
    )
