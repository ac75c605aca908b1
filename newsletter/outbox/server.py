"""The local outbox: an SMTP server that keeps every message in a Maildir."""

import mailbox
from email.utils import formatdate

from aiosmtpd.controller import Controller


class Pipelining:
    """Says PIPELINING in reply to EHLO: aiosmtpd reads commands in order from its stream,
    so it serves pipelined clients; it just does not say so by itself."""

    pipelining = True

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses


class MaildirHandler(Pipelining):
    """Accepts every message; the envelope sender is kept in Return-Path, as a mailbox
    would, and the envelope recipients in X-Outbox-To."""

    def __init__(self, folder: str):
        self.maildir = mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server, session, envelope):
        head = (
            f"Return-Path: <{envelope.mail_from}>\r\n"
            f"X-Outbox-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Outbox-Received: {formatdate(usegmt=True)}\r\n"
        ).encode()
        self.maildir.add(mailbox.MaildirMessage(head + envelope.original_content))
        return "250 OK: kept in the outbox"


def start_smtp(handler, host: str, port: int) -> Controller:
    """Run an aiosmtpd server in a background thread until .stop()."""
    controller = Controller(handler, hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


def start_outbox(folder: str, host: str = "127.0.0.1", port: int = 2525) -> Controller:
    return start_smtp(MaildirHandler(folder), host, port)
