"""The Celery application: background work that must survive a crash or a deploy.

Run a worker with `celery --app {{ cookiecutter.__package_name }}.jobs.app worker --loglevel INFO`.

Delivery is at least once: a task is acknowledged only after it finished
(`task_acks_late`), and a worker that dies mid-task gives it back to the queue
(`task_reject_on_worker_lost`). So every task must be idempotent: running it twice
has the same effect as running it once.
"""

from typing import Any

from celery import Celery, Task
from sqlalchemy.exc import InterfaceError, OperationalError

from ..core.config import Settings, get_settings


class RetryingTask(Task[Any, Any]):
    """Base for tasks: transient errors are retried with exponential backoff and jitter.

    Waits of about 1, 2, 4, 8 ... seconds (each randomised, at most 60), five
    retries at most; any other error fails the task at once.
    """

    # The database or the network hiccuped; the task itself is fine.
    # (Not IntegrityError: a constraint violation fails the same way every time.)
    autoretry_for = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 5


def create_celery(settings: Settings) -> Celery:
    app = Celery(settings.celery_queue, include=["{{ cookiecutter.__package_name }}.tasks"])
    app.conf.update(
        broker_url=settings.celery_broker_url,
        result_backend=settings.celery_result_backend,
        task_default_queue=settings.celery_queue,
        # JSON only: pickle would let whoever can write to the broker run code on workers.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per worker process, so a long task does not hold others hostage.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.celery_soft_time_limit_seconds,
        task_time_limit=settings.celery_time_limit_seconds,
        task_track_started=True,
        result_expires=settings.celery_result_expires_seconds,
        # Unacknowledged tasks of a vanished worker are redelivered after this long;
        # it must exceed the longest task, or a slow task would run twice.
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = create_celery(get_settings())
