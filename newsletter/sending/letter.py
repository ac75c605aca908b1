"""One issue's email, prepared once and made personal per subscriber."""

from __future__ import annotations

import re
import secrets
from email.utils import formatdate
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape

from newsletter import analytics, links, mailer, message_ids, signing
from newsletter.digest.render import (
    MARKERS,
    NAME,
    OPEN_PIXEL,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    link_position,
    name_value,
    retitle,
)
from newsletter.extensions import db
from newsletter.lists import list_headers, sender
from newsletter.models import Issue, IssueLink

# What a letter needs of its list.
LIST_FIELDS = (
    "id",
    "name",
    "slug",
    "from_email",
    "from_name",
    "reply_to",
    "track_clicks",
    "track_opens",
)


# Where the open pixel's link takes a copy's token.
PIXEL_TOKEN = "\0"
# A marker's value where a copy has nothing to put: only the soft breaks around it.
EMPTY = mailer.framed_value("")


class BadRecipient(ValueError):
    """This subscriber's address or name cannot be put in a header (an undecodable domain)."""


class IssueLetter:
    def __init__(
        self,
        issue: Issue,
        html: str | None = None,
        text: str | None = None,
        subject: str | None = None,
        id_suffix: str | None = None,
        link_urls: dict[int, str] | None = None,
    ):
        """The frozen render of the issue, unless a fresh one is given (test sends, another
        language's render, which shares its sibling's message-id suffix)."""
        html, text = html or issue.html, text or issue.text
        if html is None or text is None:
            raise ValueError("the issue has not been rendered; claim it first")
        # Kept for a sibling with another subject (an A/B variant) in the same language.
        self.html_source, self.text_source = html, text
        # Plain values: a batch commits often, and a commit would make the ORM reload them.
        mailing_list = issue.mailing_list
        self.mailing_list = SimpleNamespace(
            **{field: getattr(mailing_list, field) for field in LIST_FIELDS}
        )
        # Encoded once per issue; per subscriber only the marked values are encoded.
        self.html = mailer.QuotedPrintableTemplate(html, MARKERS)
        self.text = mailer.QuotedPrintableTemplate(text, MARKERS)
        self.frame = mailer.Multipart()
        self._prepare_tracking(issue, link_urls)
        self.unsubscribe_links = links.Links(links.UNSUBSCRIBE, mailing_list.id)
        self.preferences_links = links.Links(links.PREFERENCES, mailing_list.id)
        # A copy's own links are a fixed prefix and its token: only the token is framed.
        self.unsubscribe_frame = mailer.TokenFrame(self.unsubscribe_links.prefix)
        self.preferences_frame = mailer.TokenFrame(self.preferences_links.prefix)
        self.body = mailer.SlottedBody(self.frame, self.text, self.html, self._slot)
        # Unique per issue; each copy's Message-ID adds its delivery and that delivery's MAC.
        self.id_suffix = (
            id_suffix or f"{issue.id}.{secrets.token_hex(6)}@{current_app.config['MAIL_DOMAIN']}"
        )
        self.envelope_from = self.mailing_list.from_email
        self.subject = subject or issue.subject
        fixed = [
            ("From", mailer.address_header(*sender(self.mailing_list))),
            ("Subject", mailer.encode_header(self.subject)),
            ("Date", formatdate(usegmt=True)),
        ]
        if self.mailing_list.reply_to:
            fixed.append(("Reply-To", mailer.address_header("", self.mailing_list.reply_to)))
        # The list's headers are made once, with a stand-in where the unsubscribe token goes
        # (URL-safe characters both, so quoting leaves either as it is).
        self.token_mark = "nltoken" + secrets.token_hex(8)
        unsubscribe = self.unsubscribe_links.prefix + self.token_mark
        shared = [*fixed, *list_headers(self.mailing_list, unsubscribe), *self.frame.headers]
        # Split where the token goes: a copy's head is joined by its token.
        self.shared_head = mailer.header_lines(shared).split(self.token_mark)
        self.marked = [(name, value) for name, value in shared if self.token_mark in value]
        # What every copy's text begins with, before its first personal value.
        body_start = self.body.pieces[0]
        signer = signing.configured()
        self.signature = signer and signing.Shared(
            signer,
            [
                (name.encode(), value.encode())
                for name, value in shared
                if (name, value) not in self.marked
            ],
            [b"To", b"Message-ID", *(name.encode() for name, _ in self.marked)],
            body_start,
        )

    def _prepare_tracking(self, issue: Issue, link_urls: dict[int, str] | None) -> None:
        """What the link markers of a send's render stand for: tracked, the copy's redirect;
        untracked (the list or the subscriber said no), the link itself, found once here."""
        positions = {
            marker: link_position(marker)
            for marker in {*self.html.markers, *self.text.markers}
            if link_position(marker) is not None
        }
        if positions and link_urls is None:
            link_urls = dict(
                db.session.execute(
                    sa.select(IssueLink.position, IssueLink.url).where(
                        IssueLink.issue_id == issue.id
                    )
                ).all()
            )
        self.link_urls = link_urls or {}
        # The link markers in the order of a copy's values (`_slot`).
        self.link_order = {marker: n for n, marker in enumerate(sorted(positions))}
        self.link_positions = {marker: str(position) for marker, position in positions.items()}
        urls = [self.link_urls[positions[marker]] for marker in self.link_order]
        # An untracked copy's links are the same in every copy: framed once here, the
        # text's then the HTML's.
        plain = [mailer.framed_value(url) for url in urls]
        plain += [mailer.framed_value(str(escape(url))) for url in urls]
        self.plain_links = [framed for framed, _ in plain], [smtp for _, smtp in plain]
        self.click_prefix = analytics.click_prefix()
        self.secret = current_app.config["SECRET_KEY"]
        # A tracked link is the prefix, the copy's token and its position; framed, only the
        # token is new per copy, when the whole fits one line as it is.
        self.link_frames = [
            (
                mailer.SOFT_BREAK + self.click_prefix.encode(),
                f"/{positions[marker]}".encode() + mailer.SOFT_BREAK,
            )
            for marker in self.link_order
        ]
        longest = max((len(p) for p in self.link_positions.values()), default=0)
        fits = mailer.as_is(self.click_prefix + "/") and not self.click_prefix.startswith(".")
        self.token_room = mailer.MAX_LINE - 2 - len(self.click_prefix) - longest if fits else -1
        # The open pixel, before and after a copy's token.
        self.pixel = mailer.TokenFrame(
            *f'<img src="{analytics.open_url(PIXEL_TOKEN)}" width="1" height="1" alt="" '
            'style="display:block;border:0">'.split(PIXEL_TOKEN)
        )
        self.tracks = bool(self.link_order) or OPEN_PIXEL in self.html.markers

    # Where a copy's values stand in the list each copy makes (build): its name in the
    # text and in the HTML, its own two links, the open pixel, nothing, then its links in
    # the text and in the HTML.
    NAME_TEXT, NAME_HTML, UNSUBSCRIBE, PREFERENCES, PIXEL, NOTHING, LINKS = range(7)

    def _slot(self, part: str, marker: str) -> int:
        html = part == "html"
        if marker == NAME:
            return self.NAME_HTML if html else self.NAME_TEXT
        if marker == OPEN_PIXEL:
            return self.PIXEL if html else self.NOTHING
        fixed = {UNSUBSCRIBE_URL: self.UNSUBSCRIBE, PREFERENCES_URL: self.PREFERENCES}
        if marker in fixed:
            return fixed[marker]
        if marker not in self.link_order:
            raise ValueError(f"the render has a marker no copy fills: {marker}")
        return self.LINKS + self.link_order[marker] + html * len(self.link_order)

    def _tracking(self, delivery_id: int, tracked: bool) -> tuple[tuple, list, list]:
        """A copy's framed open pixel (as it is and for SMTP) and its links' (text then
        HTML): its own where the copy is tracked, else the issue's."""
        links, smtp_links = self.plain_links
        if not (tracked and self.tracks):
            return EMPTY, links, smtp_links
        copy = analytics.token(delivery_id, self.secret)
        if self.mailing_list.track_clicks:
            links, smtp_links = self._tracked_links(copy)
        pixel = EMPTY
        if self.mailing_list.track_opens:
            pixel = self.pixel.framed(copy)
        return pixel, links, smtp_links

    def _tracked_links(self, copy: str) -> tuple[list[bytes], list[bytes]]:
        """A tracked copy's links, text then HTML, as they are and for SMTP."""
        if len(copy) <= self.token_room and mailer.as_is(copy):
            token = copy.encode()
            # No dot starts a line in them: the SMTP form is the same bytes.
            links = [head + token + tail for head, tail in self.link_frames] * 2
            return links, links
        prefix = f"{self.click_prefix}{copy}/"
        framed = [mailer.framed_value(prefix + self.link_positions[m]) for m in self.link_order]
        return [value for value, _ in framed] * 2, [smtp for _, smtp in framed] * 2

    def in_language(
        self, issue: Issue, locale: str | None, subject: str | None = None
    ) -> IssueLetter:
        """This letter as a subscriber reading `locale` gets it: the issue's render in that
        language when it has one (frozen with it), else this one; with `subject` (an A/B
        variant's) instead of this one's."""
        render = (issue.renders or {}).get(locale or "") or [None, None]
        subject = subject or self.subject
        if render[0] is None and subject == self.subject:
            return self
        html = render[0] or self.html_source
        return IssueLetter(
            issue,
            html=html if subject == self.subject else retitle(html, subject),
            text=render[1] or self.text_source,
            subject=subject,
            id_suffix=self.id_suffix,
            link_urls=self.link_urls,
        )

    def message_id(self, delivery_id: int) -> str:
        return message_ids.make(delivery_id, self.id_suffix, self.secret)

    def build(
        self,
        delivery_id: int,
        subscriber_id: int,
        email: str,
        name: str,
        tracked: bool = False,
        message_id: str | None = None,
    ) -> mailer.Stuffed:
        """This subscriber's email (bytes() of it gives its bytes); `tracked` for a delivery
        whose subscriber has not turned tracking off (test sends are never tracked);
        `message_id` when the caller made it already (message_id())."""
        try:
            to = mailer.address_header(name, email)
        except ValueError as exc:
            raise BadRecipient(f"The address or name cannot be put in a header: {exc}") from exc
        signed = self.unsubscribe_links.value(subscriber_id)
        token = self.unsubscribe_links.signed(signed)
        unsubscribe = self.unsubscribe_frame.framed(token)
        preferences = self.preferences_frame.framed(self.preferences_links.signed(signed))
        name_text, name_html = _framed_names(name)
        pixel, links, smtp_links = self._tracking(delivery_id, tracked)
        # In the order of _slot's indexes.
        copy = self.body.fill(
            [
                name_text[0],
                name_html[0],
                unsubscribe[0],
                preferences[0],
                pixel[0],
                EMPTY[0],
                *links,
            ],
            [
                name_text[1],
                name_html[1],
                unsubscribe[1],
                preferences[1],
                pixel[1],
                EMPTY[1],
                *smtp_links,
            ],
        )
        message_id = message_id or self.message_id(delivery_id)
        head = f"To: {to}\r\nMessage-ID: {message_id}\r\n{token.join(self.shared_head)}\r\n"
        head = head.encode("ascii")
        if self.signature:
            # In the order named when prepared.
            personal = [
                to.encode(),
                message_id.encode(),
                *(value.replace(self.token_mark, token).encode() for _, value in self.marked),
            ]
            # After the room for the head, the first chunk is the shared start.
            head = self.signature.header(personal, b"".join(copy.plain[2:])) + head
        return copy.headed(head)


# A name that quoted-printable leaves as it is after its space (printable ASCII but "=",
# not ending in a space, one line) and that HTML needs no escape for (& < > " '): most.
_PLAIN_NAME = re.compile(r"[ !#-%(-;?-~]{0,73}[!#-%(-;?-~]")


def _framed_names(name: str) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    """The name's framed value in the text and in the HTML (escaped): most are the same."""
    if _PLAIN_NAME.fullmatch(name):
        # The value starts with a space: no dot starts its line, and SMTP's form is the same.
        framed = mailer.SOFT_BREAK + b" " + name.encode("ascii") + mailer.SOFT_BREAK
        return (framed, framed), (framed, framed)
    text, html = name_value(name, escape_values=False), name_value(name, escape_values=True)
    framed = mailer.framed_value(text)
    return framed, framed if html == text else mailer.framed_value(html)
