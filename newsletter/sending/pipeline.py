"""Sending a prepared message over an open SMTP session in as few round trips as allowed.

smtplib's sendmail waits for each of MAIL, RCPT and DATA in turn and copies the message to
fix line endings. Where the server offers PIPELINING (RFC 2920) the envelope goes in one
write, and the message, built with CRLF line endings, is only dot-stuffed: two round trips
per message instead of four. Errors are raised as sendmail raises them.
"""

from __future__ import annotations

import smtplib

from newsletter.mailer import smtp_address


def dot_stuffed(message: bytes) -> bytes:
    """The message as DATA carries it: leading dots doubled, ended by CRLF.CRLF."""
    body = message.replace(b"\r\n.", b"\r\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


class Pipeline:
    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp
        self.pipelining = smtp.has_extn("pipelining") if smtp.does_esmtp else False
        if smtp.ehlo_resp is None and smtp.helo_resp is None:
            smtp.ehlo_or_helo_if_needed()
            self.pipelining = smtp.has_extn("pipelining")

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        recipient = smtp_address(recipient)
        if not self.pipelining:
            self.smtp.sendmail(smtp_address(sender), [recipient], message)
            return
        self.smtp.sock.sendall(
            f"MAIL FROM:<{smtp_address(sender)}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode()
        )
        mail, rcpt, data = (self.smtp.getreply() for _ in range(3))
        if data[0] == 354 and mail[0] == 250 and rcpt[0] in (250, 251):
            self.smtp.sock.sendall(dot_stuffed(message))
            code, text = self.smtp.getreply()
            if code != 250:
                self._reset()
                raise smtplib.SMTPDataError(code, text)
            return
        if data[0] == 354:  # a server that took DATA with nothing to deliver: end it empty
            self.smtp.sock.sendall(b".\r\n")
            self.smtp.getreply()
        self._reset()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        raise smtplib.SMTPDataError(*data)

    def _reset(self) -> None:
        self.smtp.rset()
