"""Celery tasks: thin wrappers that call the services inside the app context."""

import random
import smtplib

from celery import shared_task
from celery.utils.log import get_task_logger
from flask import current_app

from newsletter.digest import autopilot
from newsletter.posts import feeds
from newsletter.sending import batch, lifecycle
from newsletter.subscriptions import importer, notices

logger = get_task_logger(__name__)

# SMTP trouble while mailing one person: retry for about a day.
NOTICE_RETRIES = 12


def backoff(retries: int) -> float:
    """Exponential backoff with jitter, capped at ten minutes."""
    base = current_app.config["SEND_RETRY_BASE"]
    return min(600.0, base * 2**retries) * random.uniform(0.8, 1.2)


@shared_task(name="newsletter.send_notice", bind=True, max_retries=NOTICE_RETRIES)
def send_notice(self, kind: str, subscription_id: int) -> bool:
    try:
        return notices.send_notice(kind, subscription_id)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        if not is_temporary(exc):
            logger.warning("%s notice for subscription %s refused: %s", kind, subscription_id, exc)
            return False
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    except OSError as exc:  # the server is down or dropped us
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


def is_temporary(exc: smtplib.SMTPException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code < 500 for code, _ in exc.recipients.values())
    return exc.smtp_code < 500


@shared_task(name="newsletter.dispatch_due_issues")
def dispatch_due_issues() -> list[int]:
    return lifecycle.dispatch()


@shared_task(name="newsletter.send_batch", bind=True, max_retries=None)
def send_batch(self, issue_id: int, low: int, high: int) -> dict:
    try:
        outcome = batch.send_batch(issue_id, low, high)
    except batch.SmtpUnavailable as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    if outcome.deferred:
        raise self.retry(countdown=backoff(self.request.retries))
    return {"sent": outcome.sent, "failed": outcome.failed, "stopped": outcome.stopped}


@shared_task(name="newsletter.run_autopilot")
def run_autopilot() -> list[int]:
    return autopilot.run_autopilot()


@shared_task(name="newsletter.poll_feeds")
def poll_feeds() -> int:
    return feeds.poll_all()


@shared_task(name="newsletter.fetch_feed")
def fetch_feed(feed_id: int) -> int:
    return feeds.fetch_by_id(feed_id)


@shared_task(name="newsletter.run_import")
def run_import(import_id: int) -> None:
    importer.run_import(import_id)
