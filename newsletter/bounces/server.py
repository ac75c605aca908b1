"""`newsletter bounces serve`: an SMTP or LMTP server that takes bounces and complaints.

It accepts mail only for the bounce domain, so it is no relay. A report that cannot be
stored (the database is down) is refused with a 4xx, so the sending server tries again and
nothing is lost; a message that is not a bounce is accepted and dropped.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from flask import Flask

from newsletter.bounces.intake import take

log = logging.getLogger(__name__)

MAX_SIZE = 10 * 1024 * 1024


class BounceHandler:
    def __init__(self, app: Flask, lmtp: bool):
        self.app = app
        self.lmtp = lmtp
        self.domain = app.config["BOUNCE_DOMAIN"].lower()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.7.1 This server takes bounces for " + self.domain + " only"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._take, envelope.content, envelope.rcpt_tos)
            status = "250 2.0.0 OK"
        except Exception:
            log.exception("could not store a bounce; the sender will retry")
            status = "451 4.3.0 Could not store this report now; try again later"
        # LMTP answers once per recipient.
        return "\r\n".join([status] * len(envelope.rcpt_tos)) if self.lmtp else status

    def _take(self, content: bytes, recipients: list[str]) -> None:
        with self.app.app_context():
            take(content, list(recipients), "lmtp" if self.lmtp else "smtp")


class BounceServer(Controller):
    def __init__(self, app: Flask, host: str, port: int, lmtp: bool = False):
        super().__init__(
            BounceHandler(app, lmtp), hostname=host, port=port, data_size_limit=MAX_SIZE
        )

    @property
    def lmtp(self) -> bool:
        return self.handler.lmtp

    def factory(self):
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)
