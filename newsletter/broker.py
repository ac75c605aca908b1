"""The task broker: Celery bound to the Flask app (every task runs inside the app context),
and the embedded folder broker made safe for readers that come first."""

import os
import uuid
from pathlib import Path
from time import monotonic

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from newsletter import jobs
from newsletter.extensions import db

# Seconds between beat's looks for feeds whose next poll has come (posts/feeds.py).
FEEDS_DUE_EVERY = 60.0


def _write_whole(path: str, data: bytes) -> None:
    """Readers see the old file or the new one, never a half-written one."""
    with open(path + ".part", "wb") as part:
        part.write(data)
    os.replace(path + ".part", path)


class _AtomicFolderChannel(filesystem.Channel):
    """kombu's folder channel writes files where they lie, so a reader that comes first
    reads them empty, and the worker stops (seen in the end-to-end test)."""

    def _put(self, queue, payload, **kwargs):
        # ".part" files do not end in ".<queue>.msg": consumers skip them.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        _write_whole(os.path.join(self.data_folder_out, name), str_to_bytes(dumps(payload)))

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        self.control_folder.mkdir(exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(self.control_folder / ".bindings.lock", "wb") as guard:
            filesystem.lock(guard, filesystem.LOCK_EX)
            try:
                table = self.get_table(exchange)
                if entry not in table:
                    path = str(self._exchange_file(exchange))
                    _write_whole(path, str_to_bytes(dumps([entry, *table])))
            finally:
                filesystem.unlock(guard)


class AtomicFolderTransport(filesystem.Transport):
    Channel = _AtomicFolderChannel


def use_atomic_folder_transport() -> None:
    """The embedded broker's URL stays filesystem://; this process then reads and writes it
    safely. Called where Celery is set up, never on import."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:AtomicFolderTransport"


def control_queue(queue: str) -> str:
    return f"{queue}-control"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    if app.config["BROKER_URL"] == "filesystem://":
        use_atomic_folder_transport()

    @worker_process_init.connect(weak=False)
    def _own_connections(**_):
        # A forked pool process inherits the parent's pooled connections (the schema check
        # before the worker starts made one): processes sharing one socket read each other's
        # results, and two claimed one issue. Each process opens its own.
        with app.app_context():
            db.engine.dispose(close=False)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(_celery_config(app.config))
    app.extensions["celery"] = celery_app
    return celery_app


def _celery_config(config) -> dict:
    broker_url = config["BROKER_URL"]
    queue = config.get("TASK_QUEUE", "newsletter")
    control = control_queue(queue)
    settings = {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        # A task is acknowledged only once it has run, so a killed worker's batch is redone.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": queue,
        # Every worker takes both; the short jobs that keep sends moving have their own, so
        # they wait behind one batch per worker at most, not behind a send's whole queue.
        "task_queues": (Queue(control), Queue(queue)),
        "task_routes": {job.name: {"queue": control} for job in jobs.CONTROL},
        # A broker lost mid-batch: the batch finishes and records what it sent (Celery 6
        # would cancel it by default, leaving its rows to the lease and its window to repeat).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "include": ["worker.tasks"],
        "beat_schedule": {
            "dispatch-due-issues": {
                "task": jobs.dispatch_due_issues.name,
                "schedule": config["BEAT_INTERVAL"],
            },
            "autopilot": {"task": jobs.run_autopilot.name, "schedule": config["BEAT_INTERVAL"]},
            "each-post": {"task": jobs.send_new_posts.name, "schedule": config["BEAT_INTERVAL"]},
            "poll-feeds": {
                "task": jobs.poll_feeds.name,
                # Beat looks for feeds due this often; each keeps its own interval.
                "schedule": min(config["FEED_POLL_INTERVAL"], FEEDS_DUE_EVERY),
            },
            "fetch-bounces": {
                "task": jobs.fetch_bounces.name,
                "schedule": config["BOUNCE_POLL_INTERVAL"],
            },
        },
        "timezone": "UTC",
    }
    if broker_url.startswith(("redis://", "rediss://")):
        # Clicks and opens wait in Redis until this writes them (click_queue.py).
        settings["beat_schedule"]["drain-clicks"] = {
            "task": jobs.drain_clicks.name,
            "schedule": config["CLICK_DRAIN_INTERVAL"],
        }
    if broker_url == "filesystem://":
        folder = config["BROKER_DIR"]
        settings["broker_transport_options"] = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": folder + "-processed",
            "control_folder": folder + "-control",
            "store_processed": False,
            "polling_interval": 0.5,
        }
        for suffix in ("", "-processed", "-control"):
            Path(folder + suffix).mkdir(parents=True, exist_ok=True)
    return settings
