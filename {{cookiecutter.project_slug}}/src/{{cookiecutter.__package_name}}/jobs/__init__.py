"""The Celery option: the worker application, its tasks, enqueueing and task status."""
