"""The send loop, top to bottom: dispatch → claim → build → pipeline → record → next.

Every decision of a send is made in this module: when an issue starts, when a batch tries
again, waits for the rate limit, pauses the issue, queues the next batch, and when the issue
is sent. The rooms it walks through do one thing each and decide nothing: `claims.py` holds
subscribers for a batch, `letter.py` builds a message, `pipeline.py` talks SMTP, `record.py`
writes results, `lifecycle.py` holds the editors' transitions.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import heartbeats, jobs, mailer, verp
from newsletter.digest.render import render_issue, tracked_links
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, IssueLink, utcnow
from newsletter.sending import ab, ledger, local_time
from newsletter.sending.claims import (
    Autocommit,
    Lease,
    claim_batch,
    moved,
    next_due,
    release_claim,
    release_stale_claims,
)
from newsletter.sending.letter import BadRecipient, IssueLetter
from newsletter.sending.pipeline import Interrupted, Pipeline
from newsletter.sending.record import BatchOutcome, BatchRecord, count_errors
from newsletter.sending.retries import backoff
from newsletter.sending.throttle import throttle
from newsletter.statuses import DeliveryStatus, IssueStatus
from newsletter.text import storable

logger = logging.getLogger(__name__)

# Why a batch stopped early, besides the issue's own status (paused, cancelled).
THROTTLED = "throttled"
UNREACHABLE = "unreachable"
# Seconds of copies built one after another, as the pipeline asks for the first of each
# run (while the server takes the message before): each send's trip through the kernel
# flushes the CPU's caches, and a copy built between two sends cost a third more. Not a
# whole window at once: the build holds the GIL, and the process's other batch would wait
# for it (a window of signed copies, 50 signatures, held it for tens of ms).
BUILD_RUN = 0.0005
# Signed copies, each about a signature's cost, go a few at a time: RSA's tables stay in the
# core's caches between signatures (one after each send's trip through the kernel cost the
# workers some 60 µs more a message, over five runs each), and the other batch waits 5 ms
# at most.
SIGNED_BUILD_RUN = 0.005
# Longer waits are left to beat: brokers redeliver tasks held past their visibility timeout.
MAX_QUEUED_WAIT = 900.0


# 1. Dispatch: beat runs this every BEAT_INTERVAL seconds.


def dispatch(now: datetime | None = None) -> list[int]:
    """Start due issues, give back dead batches' subscribers, and restart sends that
    stopped moving (their queue was lost with the broker); returns the issues started."""
    heartbeats.mark()
    started = claim_due_issues(now)
    dead_batches = Counter(release_stale_claims(now))
    # A stalled send has no chain left; one with dead batches has live ones besides, and
    # needs as many new chains as batches died. An A/B test just decided has its rest due.
    woken = started + stalled_issues(now) + ab.decide_due(now)
    chains = {issue_id: None for issue_id in woken}
    for issue_id, count in dead_batches.items():
        chains.setdefault(issue_id, count)
    for issue_id, most in chains.items():
        db.session.execute(moved(issue_id, utcnow()))
        db.session.commit()
        start_batches(issue_id, most)
    return started


def claim_due_issues(now: datetime | None = None) -> list[int]:
    """Start every due issue exactly once: claim, freeze the render, create the ledger.

    All three happen in one transaction, so a crash leaves the issue scheduled, not
    half-started. An issue that cannot be rendered pauses, saying why; the others start.
    """
    now = now or utcnow()
    local_time.bring_forward(now)
    due = db.session.scalars(
        sa.select(Issue.id).where(Issue.status == IssueStatus.SCHEDULED, Issue.send_at <= now)
    ).all()
    claimed = []
    for issue_id in due:
        # Still due: an editor may have moved it later since it was read (the reschedule).
        won = db.session.execute(
            sa.update(Issue)
            .where(
                Issue.id == issue_id,
                Issue.status == IssueStatus.SCHEDULED,
                Issue.send_at <= now,
            )
            .values(status=IssueStatus.SENDING, started_at=now, progress_at=now)
        ).rowcount
        if won != 1:
            db.session.rollback()
            continue
        issue = db.session.get(Issue, issue_id)
        db.session.refresh(issue)
        try:
            _freeze(issue)
        except Exception as exc:
            # The claim is rolled back with the render: it pauses from "scheduled".
            if not stop_for_error(issue_id, exc, was=(IssueStatus.SCHEDULED,)):
                raise
            continue
        db.session.commit()
        ledger.analyze()
        claimed.append(issue_id)
    return claimed


def resume_sending(issue: Issue) -> None:
    """Carry on with an issue that was just resumed; one that paused before it could start
    is frozen first."""
    if issue.html is None:
        try:
            _freeze(issue)
        except Exception as exc:
            if not stop_for_error(issue.id, exc):
                raise
            db.session.refresh(issue)
            return
        db.session.commit()
        ledger.analyze()
    start_batches(issue.id)


def _freeze(issue: Issue) -> None:
    """The render every subscriber gets, in the list's language and in each other language
    its subscribers read, and a ledger row for each; not committed. With click tracking the
    issue's links become its IssueLink rows, and their hrefs markers each copy fills in."""
    mailing_list = issue.mailing_list
    links = tracked_links(issue) if mailing_list.track_clicks else []
    db.session.execute(sa.delete(IssueLink).where(IssueLink.issue_id == issue.id))
    db.session.add_all(
        IssueLink(issue_id=issue.id, position=position, url=url)
        for position, url in enumerate(links, 1)
    )
    tracking = {"links": links, "pixel": mailing_list.track_opens}
    issue.html, issue.text = render_issue(issue, **tracking)
    issue.renders = {
        locale: list(render_issue(issue, locale, **tracking))
        for locale in ledger.other_languages(issue)
    } or None
    ledger.create_deliveries(issue)


def start_batches(issue_id: int, most: int | None = None) -> int:
    """Start up to SEND_PARALLEL (or `most`) chains of batches; each batch queues the next."""
    config = current_app.config
    due = ledger.due_count(issue_id)
    chains = min(most or config["SEND_PARALLEL"], -(-due // config["BATCH_SIZE"]))
    for _ in range(chains):
        jobs.send_batch.delay(issue_id)
    if not chains:
        finish_if_done(issue_id)
    return chains


def stalled_issues(now: datetime | None = None) -> list[int]:
    """Sending issues that nothing has moved for STALL_AFTER seconds: no live batch renews
    them and no queued one is due (`progress_at` is pushed ahead when one is queued for
    later)."""
    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["STALL_AFTER"])
    return list(
        db.session.scalars(
            sa.select(Issue.id).where(
                Issue.status == IssueStatus.SENDING,
                sa.or_(Issue.progress_at.is_(None), Issue.progress_at < limit),
            )
        )
    )


# 2. A batch, then the next: what the send_batch job does.


def run_batch(issue_id: int, after: int = 0, tries: int = 0) -> dict:
    """Send one batch, then decide what comes next for its chain."""
    started = time.monotonic()
    outcome = send_batch(issue_id, after)
    logger.info(
        "issue %s batch: %d sent, %d failed, %d deferred in %.3f s",
        issue_id,
        outcome.sent,
        outcome.failed,
        outcome.deferred,
        time.monotonic() - started,
    )
    if outcome.stopped == UNREACHABLE:  # the server: wait longer each time it fails
        _queue(issue_id, after, tries + 1, backoff(tries))
    elif outcome.stopped == THROTTLED:
        _queue(issue_id, outcome.last, tries, 1.0)
    elif outcome.stopped is None and outcome.next_in is not None:
        _queue(issue_id, outcome.last, 0, outcome.next_in)
    return {"sent": outcome.sent, "failed": outcome.failed, "stopped": outcome.stopped}


def send_batch(issue_id: int, after: int = 0) -> BatchOutcome:
    """Connect, claim, build, send and record one batch of an issue.

    An error that is not the SMTP server's (a template, a header, a setting) would fail
    every retry alike: the issue pauses, saying why, and the editors are told."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != IssueStatus.SENDING:
        return BatchOutcome(stopped=issue.status if issue else "missing")
    # An A/B test is decided before its rest is claimed, whoever gets there first; an issue
    # without one (most) is not read again for it.
    if ab.undecided(issue):
        ab.decide_if_due(issue_id)
    try:
        # Connect (and greet) before claiming: while the server is down, subscribers keep
        # their attempts and no rows are held.
        opened = _connect(issue_id)
        if opened is None:
            return BatchOutcome(stopped=UNREACHABLE, last=after)
        session = Session(issue_id, *opened)
        try:
            outcome = _send(issue, session, after)
        finally:
            _quit(session.smtp)
    except Exception as exc:
        if not stop_for_error(issue_id, exc):
            raise
        return BatchOutcome(stopped=IssueStatus.PAUSED)
    if outcome.stopped is None:
        outcome.next_in = next_due(issue_id, outcome.last)
    finish_if_done(issue_id)
    return outcome


def _connect(issue_id: int) -> tuple[smtplib.SMTP, Pipeline] | None:
    """An open SMTP session, greeted, or None, counted as a failed send, when the server is
    away or hangs up at once (a restart, a server shedding load): a pause would wait for
    an editor where a retry mends it."""
    smtp = None
    try:
        smtp = mailer.connect()
        return smtp, Pipeline(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        if smtp is not None:
            _quit(smtp)
        reason = f"SMTP server unavailable: {exc}"
        errors = count_errors(issue_id, 1)
        db.session.commit()
        pause_if_too_many(issue_id, errors, lambda: reason)
        return None


class Session:
    """The batch's SMTP session, opened anew once it has carried SMTP_MESSAGES_PER_CONNECTION
    messages: servers cap what one session may carry (Exim refuses the 1,001st MAIL by
    default), and a batch may hold more."""

    def __init__(self, issue_id: int, smtp: smtplib.SMTP, pipe: Pipeline):
        self.issue_id, self.smtp, self.pipe = issue_id, smtp, pipe
        self.most = current_app.config["SMTP_MESSAGES_PER_CONNECTION"]
        self.carried = 0

    def room(self, count: int) -> bool:
        """Make room for `count` more messages, in a new session when this one is full;
        False when the server cannot be reached for it."""
        if self.carried and self.carried + count > self.most:
            _quit(self.smtp)
            opened = _connect(self.issue_id)
            if opened is None:
                return False
            self.smtp, self.pipe = opened
            self.carried = 0
        self.carried += count
        return True


def _send(issue: Issue, session: Session, after: int) -> BatchOutcome:
    size = current_app.config["BATCH_SIZE"]
    token, subscribers = claim_batch(issue.id, size, after, variants_only=ab.undecided(issue))
    record = None
    try:
        with Lease(token, issue.id), Autocommit() as steps:
            subjects = ab.subjects(issue)
            letter = IssueLetter(issue, subject=subjects[None])
            letters = {(None, None): letter}
            record = BatchRecord(issue.id, token, subscribers, steps)
            while record.queue and not record.outcome.stopped:
                window = _next_window(record)
                if window and not session.room(len(window)):
                    record.put_back(window)
                    record.outcome.stopped = UNREACHABLE
                    break
                try:
                    copies = _letters(issue, letters, subjects, record, window)
                    runs = _in_runs(copies, SIGNED_BUILD_RUN if letter.signature else BUILD_RUN)
                    for row, error in session.pipe.send_all(runs):
                        if error is None:
                            record.sent(row.delivery_id)
                        else:
                            record.refused(row.delivery_id, row.attempts, error)
                except Interrupted as exc:
                    # Sent or not, we cannot know: this one subscriber may get it twice.
                    row = exc.key
                    lost = f"SMTP connection lost: {exc}"
                    record.failure(row.delivery_id, row.attempts, lost, permanent=False)
                    record.outcome.stopped = UNREACHABLE
    finally:
        # Whatever went wrong, results are written and the rows not reached are given back.
        if record:
            _record(record, final=True)
        release_claim(token)
    record.outcome.last = max((row.subscriber_id for row in subscribers), default=after)
    if record.outcome.refused:
        # What the refusals say of the addresses, judged apart: the batch's work is done.
        jobs.judge_refusals.delay(record.outcome.refused)
    return record.outcome


def _next_window(record: BatchRecord) -> list:
    """Record the last window, then take the next as far as the rate limit allows."""
    _record(record)
    window = record.next_window()
    granted = throttle().take(len(window)) if window else 0
    if window and not granted:
        record.outcome.stopped = THROTTLED
    record.put_back(window[granted:])
    return window[:granted]


def _record(record: BatchRecord, final: bool = False) -> None:
    """Write results; too many failed sends in a row pause the issue."""
    errors = record.write(final)
    outcome = record.outcome
    if errors is None and final and (outcome.errors_in_a_row or outcome.any_success):
        errors = record.write_issue()
    # The issue row is shared by every worker: its lock is let go at once. Otherwise the
    # results are committed with the next window's check.
    if errors is not None or final:
        db.session.commit()
    if errors is not None and pause_if_too_many(record.issue_id, errors, record.last_error):
        outcome.stopped = IssueStatus.PAUSED


def _letters(issue: Issue, letters: dict, subjects: dict, record: BatchRecord, window: list):
    """Each subscriber's row with its envelope and message, in their language and with its
    A/B variant's subject, built as the pipeline asks. A subscriber whose address or name
    cannot be written in a header fails alone."""
    per_delivery = verp.enabled()
    for row in window:
        key = (row.locale, row.variant_id)
        letter = letters.get(key)
        if letter is None:  # a language or a variant met for the first time in this batch
            subject = subjects.get(row.variant_id, subjects[None])
            letter = letters[key] = letters[(None, None)].in_language(issue, row.locale, subject)
        # Made once: the copy carries it, and its row keeps it once sent.
        message_id = record.message_ids[row.delivery_id] = letter.message_id(row.delivery_id)
        try:
            message = letter.build(
                row.delivery_id,
                row.subscriber_id,
                row.email,
                row.name,
                not row.no_tracking,
                message_id,
            )
        except BadRecipient as exc:
            record.failure(row.delivery_id, row.attempts, str(exc), permanent=True)
            continue
        sender = verp.return_path(row.delivery_id) if per_delivery else letter.envelope_from
        yield row, sender, row.email, message


def _in_runs(items: Iterator, seconds: float) -> Iterator:
    """The items, made for up to `seconds` at a time (at least one) when the first of each
    run is asked for."""
    while True:
        run, deadline = [], time.perf_counter() + seconds
        for item in items:
            run.append(item)
            if time.perf_counter() >= deadline:
                break
        if not run:
            return
        yield from run


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


# 3. Decisions: next batch, pause, finish.


def _queue(issue_id: int, after: int, tries: int, countdown: float) -> None:
    """Queue the chain's next batch; the stall detector is told when it is due. Work due
    hours ahead (the next wave of a send at a local hour) is not queued: beat restarts the
    send when its time comes, as it does a send whose queue was lost."""
    db.session.execute(moved(issue_id, utcnow() + timedelta(seconds=countdown)))
    db.session.commit()
    if countdown <= MAX_QUEUED_WAIT:
        jobs.send_batch.delay(issue_id, after, tries, countdown=countdown or None)


def pause_if_too_many(issue_id: int, errors: int, last_error) -> bool:
    """Past PAUSE_AFTER_ERRORS failed sends in a row the issue pauses, saying `last_error()`."""
    if errors < current_app.config["PAUSE_AFTER_ERRORS"]:
        return False
    reason = f"Paused after {errors} failed sends in a row. Last error: {last_error()}"
    pause_itself(issue_id, reason)
    return True


def stop_for_error(
    issue_id: int, error: Exception, was: tuple[str, ...] = (IssueStatus.SENDING,)
) -> bool:
    """An error that waiting will not mend (a template, a header, a setting) pauses the
    issue with the error as its reason and tells the editors. Not a lost database
    connection: that mends itself, and nothing could be written meanwhile; False then.

    Rolls back what the failed step left undone."""
    db.session.rollback()
    if isinstance(error, sa.exc.OperationalError):
        return False
    logger.error("issue %s stopped by an error", issue_id, exc_info=error)
    reason = f"Sending stopped by an error: {type(error).__name__}: {error}"
    pause_itself(issue_id, reason, was)
    return True


def pause_itself(issue_id: int, reason: str, was: tuple[str, ...] = (IssueStatus.SENDING,)) -> bool:
    """Pause a sending issue, say why, and tell the editors; only the first caller wins,
    so they get one email however many workers see the trouble at once."""
    paused = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id, Issue.status.in_(was))
        .values(status=IssueStatus.PAUSED, pause_reason=storable(reason)[:2000])
    ).rowcount
    db.session.commit()
    if paused:
        jobs.tell_editors.delay(issue_id)
    return paused == 1


def finish_if_done(issue_id: int) -> bool:
    """Mark the issue sent once nothing is pending, and keep its counts, final now."""
    deliveries, issues = Delivery.__table__, Issue.__table__  # Core: run after every batch
    pending = sa.exists().where(
        deliveries.c.issue_id == issues.c.id, deliveries.c.status == DeliveryStatus.PENDING
    )
    result = db.session.execute(
        sa.update(issues)
        .where(issues.c.id == issue_id, issues.c.status == IssueStatus.SENDING, ~pending)
        .values(status=IssueStatus.SENT, finished_at=utcnow())
    )
    db.session.commit()
    if result.rowcount != 1:
        return False
    ledger.keep_final_counts(issue_id)
    return True
