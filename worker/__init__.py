"""Celery tasks and the Celery app bound to the Flask app (`celery -A worker.app worker`)."""
