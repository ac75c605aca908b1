"""The work that services hand to workers, one object each.

A service queues with `jobs.send_batch.delay(issue_id)`; worker/tasks.py says what the job
does with `@jobs.send_batch.task()`. Both sides name the same object, so a reader (or grep)
follows the hop, and a renamed job breaks loudly instead of queueing work nobody takes.
Services never import the worker: this module sits below both.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)


class Job:
    def __init__(self, name: str):
        self.name = name

    def delay(self, *args, countdown: float | None = None) -> str:
        """Queue the job; returns its id."""
        celery = current_app.extensions["celery"]
        return celery.send_task(self.name, args=args, countdown=countdown).id

    def nudge(self, *args) -> None:
        """Queue the job if the broker takes it; if not, say so in the log and go on. For jobs
        beat runs anyway (dispatching due issues): the caller's change is committed, and an
        error here answered "send now" with a 500 while the issue went out all the same."""
        try:
            self.delay(*args)
        except (KombuError, OSError) as exc:
            log.warning("%s not queued (%s): beat will run it", self.name, exc)

    def task(self, **options):
        """Decorate the function that does the job (in worker/tasks.py)."""
        return shared_task(name=self.name, **options)

    def __repr__(self) -> str:
        return f"Job({self.name!r})"


dispatch_due_issues = Job("newsletter.dispatch_due_issues")
send_batch = Job("newsletter.send_batch")
tell_editors = Job("newsletter.tell_editors")
tell_editors_of_hold = Job("newsletter.tell_editors_of_hold")
tell_editors_of_mass_bounce = Job("newsletter.tell_editors_of_mass_bounce")
send_notice = Job("newsletter.send_notice")
run_import = Job("newsletter.run_import")
run_autopilot = Job("newsletter.run_autopilot")
poll_feeds = Job("newsletter.poll_feeds")
fetch_feed = Job("newsletter.fetch_feed")
tell_editors_of_feed = Job("newsletter.tell_editors_of_feed")
fetch_bounces = Job("newsletter.fetch_bounces")
judge_refusals = Job("newsletter.judge_refusals")
send_new_posts = Job("newsletter.send_new_posts")
drain_clicks = Job("newsletter.drain_clicks")

# Short jobs that keep sends moving: a queue of their own (broker.py).
CONTROL = (dispatch_due_issues, run_autopilot, tell_editors, send_new_posts, drain_clicks)
