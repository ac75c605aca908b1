"""The suppression list: addresses that never get mail again, from any list.

Bounced, complained and blocklisted subscribers keep their row too; an erased subscriber
leaves only the hash, so an import or a form cannot bring the address back.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from newsletter.extensions import db, insert_or
from newsletter.models import Suppression, utcnow

REASONS = ("bounced", "complained", "blocklisted", "erased")


def address_hash(email: str) -> str:
    """SHA-256 of the normalised address: a secret key would be lost with a key change."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def suppress(*emails: str, reason: str) -> None:
    """Add the addresses (or keep those there, with the newer reason). The caller commits."""
    assert reason in REASONS, reason
    if not emails:
        return
    now = utcnow()
    # Several at once: one statement, sent as many rows as the driver batches.
    rows = [{"email_hash": digest} for digest in dict.fromkeys(map(address_hash, emails))]
    db.session.execute(
        insert_or(Suppression)
        .values(reason=reason, created_at=now)
        .on_conflict_do_update(
            index_elements=["email_hash"], set_={"reason": reason, "created_at": now}
        ),
        rows,
    )


def lift(*emails: str, reason: str | None = None) -> None:
    """Take the addresses off the list; with `reason`, only those suppressed for it. The
    caller commits."""
    hashes = [address_hash(email) for email in emails]
    chosen = [Suppression.reason == reason] if reason else []
    db.session.execute(sa.delete(Suppression).where(Suppression.email_hash.in_(hashes), *chosen))


def reasons(emails: list[str]) -> dict[str, str]:
    """Address → why it is suppressed, for those of the given addresses that are."""
    by_hash = {address_hash(email): email for email in emails}
    rows = db.session.execute(
        sa.select(Suppression.email_hash, Suppression.reason).where(
            Suppression.email_hash.in_(list(by_hash))
        )
    )
    return {by_hash[digest]: reason for digest, reason in rows}


def reason(email: str) -> str | None:
    return reasons([email]).get(email)
