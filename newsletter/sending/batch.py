"""Sending one batch of an issue over one SMTP connection, with bookkeeping in bulk.

A batch claims the lowest pending subscriber ids no one else holds (FOR UPDATE SKIP LOCKED
on PostgreSQL, so any number of workers share an issue), sends them in windows of
SEND_WINDOW messages, and writes each window's results in a few statements. Before each
window it checks the issue is still sending and drops readers who left meanwhile.
"""

from __future__ import annotations

import smtplib
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import mailer
from newsletter.bounces import verp
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, utcnow
from newsletter.sending import lifecycle, retries
from newsletter.sending.claims import RELEASED, claim_batch, release_claim
from newsletter.sending.letter import BadRecipient, IssueLetter
from newsletter.sending.pipeline import Interrupted, Pipeline
from newsletter.sending.throttle import throttle
from newsletter.statuses import DeliveryStatus, IssueStatus

# The two statements of every window, built once: Core, not ORM, as they run so often.
_deliveries, _issues = Delivery.__table__, Issue.__table__
MARK_SENT = (
    sa.update(_deliveries)
    .where(_deliveries.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        **RELEASED,
        status=DeliveryStatus.SENT,
        sent_at=sa.bindparam("now"),
        attempts=_deliveries.c.attempts + 1,
        last_error=None,
        retry_at=None,
        message_id="<" + sa.cast(_deliveries.c.id, sa.String) + sa.bindparam("suffix"),
    )
)
STILL_WANTED = (
    sa.select(_deliveries.c.id)
    .join(_issues, _issues.c.id == _deliveries.c.issue_id)
    .where(
        _deliveries.c.id.in_(sa.bindparam("ids", expanding=True)),
        _deliveries.c.claim == sa.bindparam("claim"),
        _deliveries.c.status == DeliveryStatus.PENDING,
        _issues.c.status == IssueStatus.SENDING,
    )
)


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or dropped us; the batch is to be retried."""


@dataclass
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    stopped: str | None = None  # why the batch stopped early: paused, cancelled, throttled
    # Seconds until the issue has readers no batch holds (0: now); None: it has none.
    next_in: float | None = None
    last: int = 0  # the highest subscriber id this batch claimed: where the next starts
    sent_now: list[int] = field(default_factory=list, repr=False)
    failures: list[dict] = field(default_factory=list, repr=False)
    errors_in_a_row: int = 0
    any_success: bool = False


class _Batch:
    def __init__(self, issue_id: int, token: str, readers: list, letter: IssueLetter):
        config = current_app.config
        # The message ids are made from the row ids, so the database can write them.
        self.id_suffix = letter.message_id("")[1:]
        self.issue_id = issue_id
        self.token = token
        self.queue = deque(readers)
        self.window = config["SEND_WINDOW"]
        self.max_attempts = config["MAX_ATTEMPTS"]
        self.outcome = BatchOutcome()
        self.lease = config["CLAIM_LEASE"]
        self.claimed = time.monotonic()
        self.touched = 0.0

    def sent(self, delivery_id: int) -> None:
        self.outcome.sent += 1
        self.outcome.sent_now.append(delivery_id)
        self.outcome.errors_in_a_row = 0
        self.outcome.any_success = True

    def refused(self, delivery_id: int, attempts: int, code: int, text: bytes | str) -> None:
        reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        self.failure(delivery_id, attempts, reason, permanent=mailer.permanent(code))

    def failure(self, delivery_id: int, attempts: int, reason: str, permanent: bool) -> None:
        """5xx fails at once; 4xx and lost connections wait and retry until attempts run out."""
        attempts += 1
        row = {**RELEASED, "id": delivery_id, "attempts": attempts, "last_error": reason[:1000]}
        if permanent or attempts >= self.max_attempts:
            self.outcome.failed += 1
            row.update(status=DeliveryStatus.FAILED, retry_at=None)
        else:
            self.outcome.deferred += 1
            delay = retries.backoff(attempts - 1)
            row.update(status=DeliveryStatus.PENDING, retry_at=utcnow() + timedelta(seconds=delay))
        self.outcome.failures.append(row)
        self.outcome.errors_in_a_row += 1

    def step(self) -> list:
        """Record the last window's results and pick the next, in one transaction.

        The next window is the queue's head less readers who left meanwhile, and nothing
        at all once the issue is no longer sending; then the throttle has its say.
        """
        self._write_results()
        window = [self.queue.popleft() for _ in range(min(self.window, len(self.queue)))]
        wanted = set()
        if window and not self.outcome.stopped:
            ids = [row[0] for row in window]
            wanted = set(db.session.scalars(STILL_WANTED, {"ids": ids, "claim": self.token}))
            if not wanted and (status := _status(self.issue_id)) != IssueStatus.SENDING:
                self.outcome.stopped = status
        if time.monotonic() - self.claimed > self.lease / 3:
            self._renew_claim()
        db.session.commit()
        window = [row for row in window if row[0] in wanted]
        granted = throttle().take(len(window)) if window else 0
        if window and not granted:
            self.outcome.stopped = "throttled"
        self.queue.extendleft(reversed(window[granted:]))
        return window[:granted]

    def _write_results(self) -> None:
        outcome = self.outcome
        _relaxed_commit()
        if outcome.sent_now:
            db.session.execute(
                MARK_SENT, {"ids": outcome.sent_now, "now": utcnow(), "suffix": self.id_suffix}
            )
        if outcome.failures:
            db.session.execute(sa.update(Delivery), outcome.failures)
        # The issue row is shared by every worker: written on errors, else once a second.
        if outcome.errors_in_a_row or time.monotonic() - self.touched >= 1:
            self._write_issue()
        outcome.sent_now.clear()
        outcome.failures.clear()

    def _write_issue(self) -> None:
        outcome = self.outcome
        total = _count_errors(
            self.issue_id, outcome.errors_in_a_row, outcome.any_success, progress_at=utcnow()
        )
        self.touched = time.monotonic()
        outcome.errors_in_a_row = 0
        outcome.any_success = False
        if _pause_if_too_many(self.issue_id, total, self.last_error):
            outcome.stopped = IssueStatus.PAUSED

    def _renew_claim(self) -> None:
        """A slow batch (rate limited, slow server) keeps its rows from the sweeper."""
        db.session.execute(
            sa.update(Delivery).where(Delivery.claim == self.token).values(claimed_at=utcnow())
        )
        self.claimed = time.monotonic()

    def last_error(self) -> str:
        return (
            db.session.scalar(
                sa.select(Delivery.last_error)
                .where(Delivery.issue_id == self.issue_id, Delivery.last_error.is_not(None))
                .order_by(Delivery.id.desc())
                .limit(1)
            )
            or "the SMTP server could not be reached"
        )

    def finish(self) -> None:
        """Write what is left; rows this batch did not get to are free for the next at once."""
        self._write_results()
        if self.outcome.errors_in_a_row or self.outcome.any_success:
            self._write_issue()
        release_claim(self.token)


def send_batch(issue_id: int, after: int = 0) -> BatchOutcome:
    """Send the next batch of an issue; raises SmtpUnavailable to be retried later.

    Any other error (a template, a header, a setting) would fail every retry alike: the
    issue pauses, saying why, and the editors are told."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != IssueStatus.SENDING:
        return BatchOutcome(stopped=issue.status if issue else "missing")
    try:
        return _connect_and_send(issue, after)
    except SmtpUnavailable:
        raise
    except Exception as exc:
        if not lifecycle.stop_for_error(issue_id, exc):
            raise
        return BatchOutcome(stopped=IssueStatus.PAUSED)


def _connect_and_send(issue: Issue, after: int) -> BatchOutcome:
    issue_id = issue.id
    smtp = None
    try:
        # Connect (and greet) before claiming: while the server is down, readers keep
        # their attempts and no rows are held.
        smtp = mailer.connect()
        pipe = Pipeline(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        if smtp:
            smtp.close()
        reason = f"SMTP server unavailable: {exc}"
        _pause_if_too_many(issue_id, _count_errors(issue_id, 1), lambda: reason)
        raise SmtpUnavailable(reason) from exc
    try:
        return _send(issue, pipe, after)
    finally:
        _quit(smtp)


def _send(issue: Issue, pipe: Pipeline, after: int) -> BatchOutcome:
    issue_id = issue.id
    token, readers = claim_batch(issue_id, current_app.config["BATCH_SIZE"], after)
    batch = None
    try:
        letter = IssueLetter(issue)
        batch = _Batch(issue_id, token, readers, letter)
        while batch.queue and not batch.outcome.stopped:
            try:
                for (delivery_id, attempts, *_), error in pipe.send_all(
                    _letters(letter, batch, batch.step())
                ):
                    if error is None:
                        batch.sent(delivery_id)
                    else:
                        batch.refused(delivery_id, attempts, *_reply(error))
            except Interrupted as exc:
                # Sent or not, we cannot know: this one reader may get it twice.
                delivery_id, attempts, *_ = exc.key
                batch.failure(delivery_id, attempts, f"SMTP connection lost: {exc}", False)
                raise SmtpUnavailable(str(exc)) from exc
    finally:
        # Whatever went wrong, results are written and the rows not reached are given back.
        if batch:
            batch.finish()
        else:
            release_claim(token)
    outcome = batch.outcome
    outcome.last = max((row[2] for row in readers), default=after)
    outcome.next_in = lifecycle.next_due(issue_id, outcome.last)
    lifecycle.finish_if_done(issue_id)
    return outcome


def _letters(letter: IssueLetter, batch: _Batch, window: list):
    """Each reader's row with its envelope and message, built as the pipeline asks.

    A reader whose address or name cannot be written in a header fails alone."""
    per_delivery = verp.enabled()
    for row in window:
        delivery_id, attempts, subscriber_id, email, name = row
        try:
            message = letter.build(delivery_id, subscriber_id, email, name)
        except BadRecipient as exc:
            batch.failure(delivery_id, attempts, str(exc), permanent=True)
            continue
        sender = verp.return_path(delivery_id) if per_delivery else letter.envelope_from
        yield row, sender, email, message


def _reply(error: smtplib.SMTPException) -> tuple[int, bytes | str]:
    """The server's code and text from a refusal."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return next(iter(error.recipients.values()))
    return error.smtp_code, error.smtp_error


def _status(issue_id: int) -> str:
    return db.session.scalar(sa.select(Issue.status).where(Issue.id == issue_id))


def _relaxed_commit() -> None:
    """Bookkeeping commits need not wait for the disk: a worker killed mid-batch loses
    nothing by it, and a database crash at worst repeats the last moment's messages."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def _count_errors(issue_id: int, errors: int, after_success: bool = False, **values) -> int:
    """Add to the issue's failed sends in a row (counting afresh after a success), shared
    by every worker; returns the new count. Not committed."""
    streak = errors if after_success else Issue.error_streak + errors
    return db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id)
        .values(error_streak=streak, **values)
        .returning(Issue.error_streak)
    ).scalar_one()


def _pause_if_too_many(issue_id: int, errors: int, last_error) -> bool:
    """Commits; past PAUSE_AFTER_ERRORS the issue pauses, saying `last_error()`."""
    db.session.commit()
    if errors < current_app.config["PAUSE_AFTER_ERRORS"]:
        return False
    lifecycle.pause_for_errors(issue_id, errors, last_error())
    return True


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
