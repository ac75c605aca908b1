"""The Celery app for `celery -A worker.app`; `newsletter worker` does the same."""

from newsletter import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
app = celery_app
