"""What a worker does once it is ready."""

import gc

from celery.signals import worker_ready

import worker.tasks  # noqa: F401  (connects its handlers, as the worker imports it)


def test_a_ready_worker_puts_what_start_up_made_out_of_the_collectors_sight():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        worker_ready.send(sender=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_forked_pool_process_opens_its_own_database_connections(app):
    """The parent checks the schema before it forks its pool: a connection pooled then was
    shared by every child, which read each other's results (two claimed one issue)."""
    from celery.signals import worker_process_init

    from newsletter.extensions import db

    with db.engine.connect() as connection:  # as the schema check leaves one pooled
        connection.exec_driver_sql("SELECT 1")
    inherited = db.engine.pool
    worker_process_init.send(sender=None)
    assert db.engine.pool is not inherited
