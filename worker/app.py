"""The Celery app for `celery -A worker.app`; `newsletter worker` does the same.

The Flask app is built when Celery first asks for it, not when this module is imported.
"""

from functools import cache


@cache
def _celery():
    from newsletter import create_app

    return create_app().extensions["celery"]


def __getattr__(name: str):
    if name in ("app", "celery_app"):
        return _celery()
    raise AttributeError(name)
