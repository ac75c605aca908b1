"""What every email from a list carries: its sender and its List-* headers."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from newsletter import verp
from newsletter.mailer import list_id_header, smtp_address
from newsletter.models import MailingList


def sender(mailing_list: MailingList) -> tuple[str, str]:
    return mailing_list.from_name or mailing_list.name, mailing_list.from_email


def list_headers(mailing_list: MailingList, unsubscribe_url: str) -> list[tuple[str, str]]:
    """List-Id and RFC 8058 one-click unsubscribe headers."""
    domain = current_app.config["MAIL_DOMAIN"]
    token = unsubscribe_url.rsplit("/", 1)[-1]
    # To the bounce server, which acts on it, where there is one.
    to = verp.unsubscribe_address(token) or smtp_address(mailing_list.from_email)
    mailto = f"mailto:{to}?subject={quote('unsubscribe ' + token)}"
    return [
        ("List-Id", list_id_header(mailing_list.name, f"{mailing_list.slug}.{domain}")),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
