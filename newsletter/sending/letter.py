"""One issue's email, prepared once and made personal per reader."""

from __future__ import annotations

from email.utils import formatdate

from flask import current_app

from newsletter import mailer, tokens
from newsletter.digest.render import Personal, Personaliser
from newsletter.lists import list_headers, sender
from newsletter.models import Issue


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
        self.mailing_list = issue.mailing_list
        self.html = Personaliser(html, escape_values=True)
        self.text = Personaliser(text, escape_values=False)
        self.domain = current_app.config["MAIL_DOMAIN"]
        self.envelope_from = self.mailing_list.from_email
        self.fixed = [
            ("From", mailer.address_header(*sender(self.mailing_list))),
            ("Subject", mailer.encode_header(subject or issue.subject)),
            ("Date", formatdate(usegmt=True)),
        ]
        if self.mailing_list.reply_to:
            self.fixed.append(("Reply-To", mailer.address_header("", self.mailing_list.reply_to)))

    def build(self, subscriber_id: int, email: str, name: str) -> tuple[str, bytes]:
        """The message id and the bytes of this reader's email."""
        ids = (subscriber_id, self.mailing_list.id)
        personal = Personal(
            name=name,
            unsubscribe_url=tokens.url(tokens.UNSUBSCRIBE, *ids),
            preferences_url=tokens.url(tokens.PREFERENCES, *ids),
        )
        message_id = mailer.new_message_id(self.domain)
        headers = [
            ("To", mailer.address_header(name, email)),
            ("Message-ID", message_id),
            *self.fixed,
            *list_headers(self.mailing_list, personal.unsubscribe_url),
        ]
        return message_id, mailer.mime_bytes(
            headers, self.text.fill(personal), self.html.fill(personal)
        )
