"""`newsletter bounces serve`: an SMTP or LMTP server that takes bounces and complaints.

It accepts mail only for the bounce domain, so it is no relay; mail to a list's posts
address there (posts+<slug>@) goes to posts/inbound.py. A report that cannot be
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

from newsletter import verp
from newsletter.bounces.intake import take
from newsletter.posts import inbound

log = logging.getLogger(__name__)

MAX_SIZE = 10 * 1024 * 1024
# RFC 5321 caps a line at 1,000 octets, but bounces quote what they were given and some
# servers pass long lines on as they came (Exim does not fold them): aiosmtpd's own cap
# answered those with a permanent 500, and the report was lost. Commands keep theirs.
LINE_MAX = MAX_SIZE
TRY_AGAIN = "451 4.3.0 Could not store this message now; try again later"


class BounceHandler:
    def __init__(self, app: Flask, lmtp: bool):
        self.app = app
        self.lmtp = lmtp
        self.domain = app.config["BOUNCE_DOMAIN"].lower()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.7.1 This server takes bounces for " + self.domain + " only"
        slug = inbound.list_slug(address, self.domain)
        if slug is not None:  # a list's posts address, not a bounce
            loop = asyncio.get_running_loop()
            if not await loop.run_in_executor(None, self._list_exists, slug):
                return "550 5.1.1 No list has this posts address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_exception(self, error: Exception) -> str:
        """Anything unforeseen (the database down while a posts address is looked up) is a
        4xx, so the sender tries again: aiosmtpd's own answer was a 500, which lost the
        message for good, with the error's text, SQL and database host in it."""
        log.error("the bounce server could not answer: %r", error)
        return TRY_AGAIN

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        posts = [a for a in envelope.rcpt_tos if inbound.list_slug(a, self.domain)]
        bounces = [a for a in envelope.rcpt_tos if a not in posts]
        statuses = {}
        for group in self._by_copy(bounces):
            status = await self._run(loop, self._take, envelope.content, group)
            statuses.update(dict.fromkeys(group, status))
        for address in posts:
            statuses[address] = await self._run(loop, self._post, envelope.content, address)
        if self.lmtp:  # LMTP answers once per recipient
            return "\r\n".join(statuses[a] for a in envelope.rcpt_tos)
        return max(statuses.values())  # one answer: a failure, if any, so the sender retries

    async def _run(self, loop, work, *args) -> str:
        try:
            await loop.run_in_executor(None, work, *args)
            return "250 2.0.0 OK"
        except Exception:
            log.exception("could not store a message; the sender will retry")
            return TRY_AGAIN

    def _by_copy(self, addresses: list[str]) -> list[list[str]]:
        """The recipients in groups read once each: each of our copies' return paths alone
        (a report to several says whose copy it is in each; read once, only the first was
        acted on), the other addresses together."""
        with self.app.app_context():
            copies = [[a] for a in addresses if verp.delivery_id(a) is not None]
        others = [a for a in addresses if [a] not in copies]
        return copies + ([others] if others else [])

    def _take(self, content: bytes, recipients: list[str]) -> None:
        with self.app.app_context():
            take(content, list(recipients), "lmtp" if self.lmtp else "smtp")

    def _post(self, content: bytes, address: str) -> None:
        with self.app.app_context():
            mailing_list = inbound.list_for(inbound.list_slug(address, self.domain))
            if mailing_list is not None:  # deleted since RCPT: nothing to post to
                inbound.take(content, mailing_list)

    def _list_exists(self, slug: str) -> bool:
        with self.app.app_context():
            return inbound.list_for(slug) is not None


class _SMTP(SMTP):
    line_length_limit = LINE_MAX


class _LMTP(LMTP):
    line_length_limit = LINE_MAX


class BounceServer(Controller):
    def __init__(self, app: Flask, host: str, port: int, lmtp: bool = False):
        super().__init__(
            BounceHandler(app, lmtp), hostname=host, port=port, data_size_limit=MAX_SIZE
        )

    @property
    def lmtp(self) -> bool:
        return self.handler.lmtp

    def factory(self):
        server_class = _LMTP if self.lmtp else _SMTP
        return server_class(self.handler, **self.SMTP_kwargs)
