"""One issue's email, prepared once and made personal per subscriber."""

from __future__ import annotations

import secrets
from email.utils import formatdate
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape

from newsletter import analytics, links, mailer, signing
from newsletter.digest.render import (
    MARKERS,
    OPEN_PIXEL,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    Personal,
    link_position,
    marker_values,
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
        self.url_frames = {
            UNSUBSCRIBE_URL: mailer.PrefixFrame(self.unsubscribe_links.prefix),
            PREFERENCES_URL: mailer.PrefixFrame(self.preferences_links.prefix),
        }
        # Unique per issue and unguessable, so a message id names one delivery.
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
        self.shared_head = mailer.header_lines(shared)
        self.marked = [(name, value) for name, value in shared if self.token_mark in value]
        # What every copy's text begins with, before its first personal value.
        body_start = self.frame.text_head + self.text.pieces[0]
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
        self.link_positions = {marker: str(position) for marker, position in positions.items()}
        plain = {marker: self.link_urls[int(p)] for marker, p in self.link_positions.items()}
        # An untracked copy's links are the same in every copy: framed once here.
        self.plain_text = {marker: mailer.framed_value(url) for marker, url in plain.items()}
        self.plain_html = {
            marker: mailer.framed_value(str(escape(url))) for marker, url in plain.items()
        }
        self.plain_text[OPEN_PIXEL] = self.plain_html[OPEN_PIXEL] = mailer.framed_value("")
        self.click_prefix = analytics.click_prefix()
        self.secret = current_app.config["SECRET_KEY"]
        # A tracked link is the prefix, the copy's token and its position; framed, only the
        # token is new per copy, when the whole fits one line as it is.
        self.link_frames = {
            marker: (
                mailer.SOFT_BREAK + self.click_prefix.encode(),
                f"/{p}".encode() + mailer.SOFT_BREAK,
            )
            for marker, p in self.link_positions.items()
        }
        longest = max((len(p) for p in self.link_positions.values()), default=0)
        fits = mailer.as_is(self.click_prefix + "/") and not self.click_prefix.startswith(".")
        self.token_room = mailer.MAX_LINE - 2 - len(self.click_prefix) - longest if fits else -1

    def _tracking_values(self, delivery_id: int, tracked: bool) -> tuple[dict, dict]:
        """The link and pixel markers' framed values (`mailer.framed_value`) of one copy,
        for its text and its HTML."""
        if not tracked or not (self.link_positions or OPEN_PIXEL in self.html.markers):
            return self.plain_text, self.plain_html
        copy = analytics.token(delivery_id, self.secret)
        text = dict(self.plain_text)
        if self.mailing_list.track_clicks:
            text.update(self._tracked_links(copy))
        html = dict(text)
        if self.mailing_list.track_opens:
            html[OPEN_PIXEL] = mailer.framed_value(
                f'<img src="{analytics.open_url(copy)}" width="1" height="1" alt="" '
                'style="display:block;border:0">'
            )
        return text, html

    def _tracked_links(self, copy: str) -> dict:
        if len(copy) <= self.token_room and mailer.as_is(copy):
            token = copy.encode()
            # No dot starts a line in them: the SMTP form is the same bytes.
            return {
                marker: (value := head + token + tail, value)
                for marker, (head, tail) in self.link_frames.items()
            }
        prefix = f"{self.click_prefix}{copy}/"
        return {
            marker: mailer.framed_value(prefix + p) for marker, p in self.link_positions.items()
        }

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

    def _framed(self, marker: str, value: str) -> tuple[bytes, bytes]:
        frame = self.url_frames.get(marker)
        return frame.framed(value) if frame else mailer.framed_value(value)

    def message_id(self, delivery_id: int | str) -> str:
        return f"<{delivery_id}.{self.id_suffix}>"

    def build(
        self, delivery_id: int, subscriber_id: int, email: str, name: str, tracked: bool = False
    ) -> mailer.Stuffed:
        """This subscriber's email (bytes() of it gives its bytes); `tracked` for a delivery
        whose subscriber has not turned tracking off (test sends are never tracked)."""
        token = self.unsubscribe_links.token(subscriber_id)
        personal = Personal(
            name=name,
            unsubscribe_url=self.unsubscribe_links.prefix + token,
            preferences_url=self.preferences_links.url(subscriber_id),
        )
        try:
            to = mailer.address_header(name, email)
        except ValueError as exc:
            raise BadRecipient(f"The address or name cannot be put in a header: {exc}") from exc
        message_id = self.message_id(delivery_id)
        head = f"To: {to}\r\nMessage-ID: {message_id}\r\n" + self.shared_head.replace(
            self.token_mark, token
        )
        text_tracking, html_tracking = self._tracking_values(delivery_id, tracked)
        plain = marker_values(personal, escape_values=False)
        text_values = {marker: self._framed(marker, value) for marker, value in plain.items()}
        # Escaping leaves most values (the links) as they are: framed once for both parts.
        html_values = {
            marker: text_values[marker] if value == plain[marker] else mailer.framed_value(value)
            for marker, value in marker_values(personal, escape_values=True).items()
        }
        text, smtp_text = self.text.fill_for_smtp({}, {**text_tracking, **text_values})
        html, smtp_html = self.html.fill_for_smtp({}, {**html_tracking, **html_values})
        body = self.frame.body(text, html)
        head = (head + "\r\n").encode("ascii")
        if self.signature:
            personal_headers = [
                (b"To", to.encode()),
                (b"Message-ID", message_id.encode()),
                *(
                    (name.encode(), value.replace(self.token_mark, token).encode())
                    for name, value in self.marked
                ),
            ]
            # The first two chunks are the shared start: the text part's head and its text
            # up to the first marker.
            head = self.signature.header(personal_headers, body[2:]) + head
        return self.frame.assemble_for_smtp(head, body, self.frame.body(smtp_text, smtp_html))
