"""Mailing lists: lookup, and the headers every email from a list carries."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from flask import abort, current_app

from newsletter.extensions import db
from newsletter.mailer import encode_header
from newsletter.models import MailingList


def find_list(slug: str) -> MailingList | None:
    return db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))


def public_list_or_404(slug: str) -> MailingList:
    mailing_list = find_list(slug)
    if mailing_list is None or not mailing_list.public:
        abort(404)
    return mailing_list


def sender(mailing_list: MailingList) -> tuple[str, str]:
    return mailing_list.from_name or mailing_list.name, mailing_list.from_email


def list_headers(mailing_list: MailingList, unsubscribe_url: str) -> list[tuple[str, str]]:
    """List-Id and RFC 8058 one-click unsubscribe headers."""
    domain = current_app.config["MAIL_DOMAIN"]
    token = unsubscribe_url.rsplit("/", 1)[-1]
    mailto = f"mailto:{mailing_list.from_email}?subject={quote('unsubscribe ' + token)}"
    return [
        ("List-Id", f"{encode_header(mailing_list.name)} <{mailing_list.slug}.{domain}>"),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
