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
