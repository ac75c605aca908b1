"""Sending one batch of an issue over one SMTP connection, with bookkeeping in bulk."""

from __future__ import annotations

import secrets
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import mailer
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription, utcnow
from newsletter.sending import lifecycle
from newsletter.sending.letter import IssueLetter

# Results are written every this many messages, which bounds repeats after a crash.
FLUSH_EVERY = 50
# Written with every result: the row is no longer held by a batch.
RELEASED = {"claim": None, "claimed_at": None}


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or dropped us; the batch is to be retried."""


@dataclass
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    stopped: str | None = None  # why the batch stopped early: paused, cancelled
    updates: list[dict] = field(default_factory=list, repr=False)


def _claim(issue: Issue, low: int, high: int) -> str:
    """Mark the range's unclaimed (or long-abandoned) pending rows as this batch's."""
    token = secrets.token_hex(16)
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["CLAIM_LEASE"])
    db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.issue_id == issue.id,
            Delivery.status == "pending",
            Delivery.subscriber_id.between(low, high),
            sa.or_(Delivery.claim.is_(None), Delivery.claimed_at < stale),
        )
        .values(claim=token, claimed_at=now)
    )
    db.session.commit()
    return token


def _readers(issue: Issue, claim: str):
    """This batch's rows whose reader is still confirmed and active."""
    return db.session.execute(
        sa.select(Delivery.id, Delivery.attempts, Subscriber.id, Subscriber.email, Subscriber.name)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(
            Subscription,
            sa.and_(
                Subscription.subscriber_id == Subscriber.id,
                Subscription.list_id == issue.list_id,
            ),
        )
        .where(
            Delivery.issue_id == issue.id,
            Delivery.claim == claim,
            Delivery.status == "pending",
            Subscription.status == "confirmed",
            Subscriber.status == "active",
        )
        .order_by(Delivery.subscriber_id)
    ).all()


def _drop_leavers(issue: Issue, low: int, high: int) -> None:
    """Readers who left or were blocked since the send began are not mailed."""
    still_in = (
        sa.select(Subscription.subscriber_id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.list_id == issue.list_id,
            Subscription.status == "confirmed",
            Subscriber.status == "active",
        )
    )
    db.session.execute(
        sa.delete(Delivery).where(
            Delivery.issue_id == issue.id,
            Delivery.status == "pending",
            Delivery.subscriber_id.between(low, high),
            Delivery.subscriber_id.not_in(still_in),
        )
    )


def _flush(issue_id: int, outcome: BatchOutcome) -> None:
    if outcome.updates:
        db.session.execute(sa.update(Delivery), outcome.updates)
        outcome.updates.clear()
    lifecycle.touch(issue_id)
    db.session.commit()


def _release(claim: str) -> None:
    """Rows this batch did not get to (paused, cancelled) are free for the next batch."""
    db.session.execute(sa.update(Delivery).where(Delivery.claim == claim).values(**RELEASED))
    db.session.commit()


def _status(issue_id: int) -> str:
    return db.session.scalar(sa.select(Issue.status).where(Issue.id == issue_id))


def send_batch(issue_id: int, low: int, high: int) -> BatchOutcome:
    """Send the pending deliveries of subscribers low..high; raises SmtpUnavailable to retry."""
    outcome = BatchOutcome()
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != "sending":
        outcome.stopped = issue.status if issue else "missing"
        return outcome
    _drop_leavers(issue, low, high)
    claim = _claim(issue, low, high)
    readers = _readers(issue, claim)
    if not readers:
        _release(claim)
        lifecycle.finish_if_done(issue_id)
        return outcome
    letter = IssueLetter(issue)
    max_attempts = current_app.config["MAX_ATTEMPTS"]
    try:
        smtp = mailer.connect()
    except (OSError, smtplib.SMTPException) as exc:
        _defer_all(readers, f"SMTP server unavailable: {exc}", max_attempts, outcome)
        _flush(issue_id, outcome)
        raise SmtpUnavailable(str(exc)) from exc
    try:
        for index, (delivery_id, attempts, subscriber_id, email, name) in enumerate(readers):
            if index and index % FLUSH_EVERY == 0:
                _flush(issue_id, outcome)
                if (status := _status(issue_id)) != "sending":
                    outcome.stopped = status
                    return outcome
            message_id, message = letter.build(subscriber_id, email, name)
            # SMTP exceptions are OSErrors too: the server's refusals are caught first.
            try:
                mailer.send(smtp, letter.envelope_from, email, message)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                _record_refusal(outcome, delivery_id, attempts, code, text, max_attempts)
            except smtplib.SMTPResponseException as exc:
                _record_refusal(
                    outcome, delivery_id, attempts, exc.smtp_code, exc.smtp_error, max_attempts
                )
            except OSError as exc:
                _defer_all(readers[index:], f"SMTP connection lost: {exc}", max_attempts, outcome)
                raise SmtpUnavailable(str(exc)) from exc
            else:
                outcome.sent += 1
                outcome.updates.append(
                    {
                        **RELEASED,
                        "id": delivery_id,
                        "status": "sent",
                        "message_id": message_id,
                        "sent_at": utcnow(),
                        "attempts": attempts + 1,
                        "last_error": None,
                    }
                )
    finally:
        _flush(issue_id, outcome)
        _release(claim)
        _quit(smtp)
    lifecycle.finish_if_done(issue_id)
    return outcome


def _record_refusal(outcome, delivery_id, attempts, code, text, max_attempts) -> None:
    reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    permanent = code >= 500
    _record_failure(outcome, delivery_id, attempts, reason, permanent, max_attempts)


def _record_failure(outcome, delivery_id, attempts, reason, permanent, max_attempts) -> None:
    """5xx fails at once; 4xx and lost connections stay pending until attempts run out."""
    attempts += 1
    if permanent or attempts >= max_attempts:
        outcome.failed += 1
        status = "failed"
    else:
        outcome.deferred += 1
        status = "pending"
    outcome.updates.append(
        {
            **RELEASED,
            "id": delivery_id,
            "status": status,
            "attempts": attempts,
            "last_error": reason[:1000],
        }
    )


def _defer_all(readers, reason: str, max_attempts: int, outcome: BatchOutcome) -> None:
    for delivery_id, attempts, *_ in readers:
        _record_failure(outcome, delivery_id, attempts, reason, False, max_attempts)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
