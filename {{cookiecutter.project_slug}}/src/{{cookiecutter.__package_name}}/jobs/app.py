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
    retries at most; any other error fails the task at once. A worker holds a task
    through its wait, which is why the visibility timeout allows 60 s beyond the
    hard time limit.
    """

    # The database or the network hiccuped; the task itself is fine.
    # (Not IntegrityError: a constraint violation fails the same way every time.)
    autoretry_for = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 5


def celery_config(settings: Settings) -> dict[str, Any]:
    visibility = settings.celery_visibility_timeout_in_effect
    return {
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        # A result store that does not answer fails a status read within seconds, not minutes,
        # and an enqueue (which subscribes to the task's result) after one retry, not twenty.
        "redis_socket_connect_timeout": 2,
        "redis_socket_timeout": 5,
        "result_backend_transport_options": {
            "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        },
        "task_default_queue": settings.celery_queue,
        # JSON only: pickle would let whoever can write to the broker run code on workers.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One task at a time per worker process, so a long task does not hold others hostage.
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.celery_soft_time_limit_seconds,
        "task_time_limit": settings.celery_time_limit_seconds,
        "task_track_started": True,
        "result_expires": settings.celery_result_expires_seconds,
        # Unacknowledged tasks of a vanished worker are redelivered after this long; it
        # exceeds the longest a worker may hold a task, or a slow task would run twice.
        # Workers look for such tasks at start and then every `unacked_restore_interval`
        # seconds (by default only every 100 s: ten calls of ten seconds each).
        "broker_transport_options": {
            "visibility_timeout": visibility,
            "unacked_restore_interval": min(visibility, 10),
            "unacked_restore_throttle": 1,
        },
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }


def create_celery(settings: Settings) -> Celery:
    app = Celery(settings.celery_queue, include=[f"{__package__}.tasks"])
    app.conf.update(celery_config(settings))
    return app


celery_app = create_celery(get_settings())
