"""One issue's email, prepared once and made personal per reader."""

from __future__ import annotations

import secrets
from email.utils import formatdate
from types import SimpleNamespace

from flask import current_app

from newsletter import links, mailer
from newsletter.digest.render import MARKERS, Personal, marker_values
from newsletter.lists import list_headers, sender
from newsletter.models import Issue

# What a letter needs of its list.
LIST_FIELDS = ("id", "name", "slug", "from_email", "from_name", "reply_to")


class BadRecipient(ValueError):
    """This reader's address or name cannot be put in a header (an undecodable domain)."""


class IssueLetter:
    def __init__(
        self,
        issue: Issue,
        html: str | None = None,
        text: str | None = None,
        subject: str | None = None,
    ):
        """The frozen render of the issue, unless a fresh one is given (test sends)."""
        html, text = html or issue.html, text or issue.text
        if html is None or text is None:
            raise ValueError("the issue has not been rendered; claim it first")
        # Plain values: a batch commits often, and a commit would make the ORM reload them.
        mailing_list = issue.mailing_list
        self.mailing_list = SimpleNamespace(
            **{field: getattr(mailing_list, field) for field in LIST_FIELDS}
        )
        # Encoded once per issue; per reader only the marked values are encoded.
        self.html = mailer.QuotedPrintableTemplate(html, MARKERS)
        self.text = mailer.QuotedPrintableTemplate(text, MARKERS)
        self.frame = mailer.Multipart()
        self.unsubscribe_links = links.Links(links.UNSUBSCRIBE, mailing_list.id)
        self.preferences_links = links.Links(links.PREFERENCES, mailing_list.id)
        # Unique per issue and unguessable, so a message id names one delivery.
        self.id_suffix = f"{issue.id}.{secrets.token_hex(6)}@{current_app.config['MAIL_DOMAIN']}"
        self.envelope_from = self.mailing_list.from_email
        self.fixed = [
            ("From", mailer.address_header(*sender(self.mailing_list))),
            ("Subject", mailer.encode_header(subject or issue.subject)),
            ("Date", formatdate(usegmt=True)),
        ]
        if self.mailing_list.reply_to:
            self.fixed.append(("Reply-To", mailer.address_header("", self.mailing_list.reply_to)))

    def message_id(self, delivery_id: int | str) -> str:
        return f"<{delivery_id}.{self.id_suffix}>"

    def build(self, delivery_id: int, subscriber_id: int, email: str, name: str) -> bytes:
        """The bytes of this reader's email."""
        personal = Personal(
            name=name,
            unsubscribe_url=self.unsubscribe_links.url(subscriber_id),
            preferences_url=self.preferences_links.url(subscriber_id),
        )
        message_id = self.message_id(delivery_id)
        try:
            to = mailer.address_header(name, email)
        except ValueError as exc:
            raise BadRecipient(f"The address or name cannot be put in a header: {exc}") from exc
        headers = [
            ("To", to),
            ("Message-ID", message_id),
            *self.fixed,
            *list_headers(self.mailing_list, personal.unsubscribe_url),
        ]
        text = self.text.fill(marker_values(personal, escape_values=False))
        html = self.html.fill(marker_values(personal, escape_values=True))
        return self.frame.message(headers, text, html)
