"""Receiving domains held back from an issue: their waiting copies not tried before a time,
while the rest of the issue goes on (bounces/refusals.py decides when)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.fields import iso
from newsletter.models import Delivery, Issue, Subscriber, utcnow
from newsletter.statuses import DeliveryStatus


def held(issue: Issue, now: datetime | None = None) -> dict[str, dict]:
    """The issue's domains held now: {domain: {"since", "until", "said", "copies"}}."""
    now = now or utcnow()
    entries = (issue.held_domains or {}).items()
    return {domain: entry for domain, entry in entries if until(entry) > now}


def hold(issue: Issue, domain: str, said: str, seconds: float) -> None:
    """The domain's waiting copies not tried again for `seconds`; committed."""
    now = utcnow()
    end = now + timedelta(seconds=seconds)
    copies = db.session.execute(
        sa.update(Delivery)
        .where(
            *_waiting_at(issue, domain),
            sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at < end),
        )
        .values(retry_at=end)
        .execution_options(synchronize_session=False)
    ).rowcount
    entry = {"since": iso(now), "until": iso(end), "said": said[:500], "copies": copies}
    issue.held_domains = {**(issue.held_domains or {}), domain: entry}
    db.session.commit()


def release(issue: Issue, domain: str | None = None) -> None:
    """The domain's hold, or every hold, ended now (an editor's choice, or the issue resumed:
    its cause fixed); not committed. A copy whose time was moved further since (a server's
    "try later") keeps it."""
    now = utcnow()
    chosen = held(issue, now) if domain is None else {domain: _of(issue, domain)}
    for name, entry in chosen.items():
        db.session.execute(
            sa.update(Delivery)
            .where(*_waiting_at(issue, name), Delivery.retry_at == until(entry))
            .values(retry_at=None)
            .execution_options(synchronize_session=False)
        )
        issue.held_domains = {**issue.held_domains, name: {**entry, "until": iso(now)}}


def _of(issue: Issue, domain: str) -> dict:
    entry = held(issue).get(domain)
    if entry is None:
        raise NotHeld(f"{domain} is not held back from issue {issue.number}.", field="domain")
    return entry


class NotHeld(NewsletterError, ValueError):
    """A domain to release that is not held (or no longer)."""


def since(issue: Issue, domain: str) -> datetime | None:
    """When the domain was last held."""
    value = (issue.held_domains or {}).get(domain, {}).get("since")
    return datetime.fromisoformat(value) if value else None


def until(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["until"])


def _waiting_at(issue: Issue, domain: str) -> list:
    at_domain = sa.select(Subscriber.id).where(
        sa.func.lower(Subscriber.email).endswith("@" + domain, autoescape=True)
    )
    return [
        Delivery.issue_id == issue.id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.subscriber_id.in_(at_domain),
    ]
