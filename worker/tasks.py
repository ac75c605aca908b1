"""Celery tasks: thin wrappers that call the services inside the app context."""

import gc
import smtplib

from celery.signals import worker_ready
from celery.utils.log import get_task_logger
from flask import current_app

from newsletter import autopilot, click_queue, each_post, jobs, mailer
from newsletter.bounces import breaker, intake, mailbox, oauth
from newsletter.posts import feeds
from newsletter.sending import alerts, loop
from newsletter.sending.retries import backoff
from newsletter.subscriptions import importer, notices

logger = get_task_logger(__name__)


@worker_ready.connect
def freeze_what_start_up_made(**_) -> None:
    """The app and the libraries' objects made at start-up live as long as the worker: out
    of the collector's sight, a full collection no longer walks them all (about 4 µs a
    message of a send, measured in one process)."""
    gc.freeze()


# SMTP trouble while mailing one subscriber: retry for about a day.
NOTICE_RETRIES = 12


@jobs.send_notice.task(bind=True, max_retries=NOTICE_RETRIES)
def send_notice(self, kind: str, subscription_id: int) -> bool:
    # Built outside the retries: a missing template or a bad header is not the server's
    # trouble, and waiting would not mend it.
    notice = notices.build_notice(kind, subscription_id)
    if notice is None:
        return False
    try:
        notices.deliver(notice)
        return True
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        if mailer.refused_for_good(exc):  # the address: no later try gets past it
            logger.warning("%s notice for subscription %s refused: %s", kind, subscription_id, exc)
            return False
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    except OSError as exc:  # the server is down or dropped us
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@jobs.dispatch_due_issues.task()
def dispatch_due_issues() -> list[int]:
    return loop.dispatch()


@jobs.send_batch.task()
def send_batch(issue_id: int, after: int = 0, tries: int = 0) -> dict:
    return loop.run_batch(issue_id, after, tries)


@jobs.tell_editors.task()
def tell_editors(issue_id: int) -> int:
    return alerts.tell_editors(issue_id)


@jobs.tell_editors_of_hold.task()
def tell_editors_of_hold(issue_id: int, domain: str) -> int:
    return alerts.tell_editors_of_hold(issue_id, domain)


@jobs.tell_editors_of_mass_bounce.task()
def tell_editors_of_mass_bounce(issue_id: int) -> int:
    return breaker.tell_editors(issue_id)


@jobs.run_autopilot.task()
def run_autopilot() -> list[int]:
    return autopilot.run_autopilot()


@jobs.send_new_posts.task()
def send_new_posts() -> list[int]:
    return each_post.send_new_posts()


@jobs.poll_feeds.task()
def poll_feeds() -> int:
    """Beat: a job for each feed whose next poll has come."""
    return len(feeds.queue_due())


@jobs.fetch_feed.task()
def fetch_feed(feed_id: int) -> int:
    return feeds.fetch_by_id(feed_id)


@jobs.tell_editors_of_feed.task()
def tell_editors_of_feed(feed_id: int) -> int:
    return feeds.tell_editors_of_feed(feed_id)


@jobs.run_import.task()
def run_import(import_id: int) -> None:
    importer.run_import(import_id)


@jobs.fetch_bounces.task()
def fetch_bounces() -> int:
    """Beat polls the bounce mailbox, when there is one."""
    url = current_app.config["BOUNCE_MAILBOX"]
    return mailbox.fetch(url, oauth=oauth.client(current_app.config)) if url else 0


@jobs.judge_refusals.task()
def judge_refusals(refused: list) -> int:
    """The addresses a send's server refused at RCPT TO, judged by the bounce rules."""
    return len(intake.take_refusals([tuple(item) for item in refused]))


@jobs.drain_clicks.task()
def drain_clicks() -> int:
    return click_queue.drain()
