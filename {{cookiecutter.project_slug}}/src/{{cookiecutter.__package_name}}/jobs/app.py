"""The Celery application: background work that must survive a crash or a deploy.

Run a worker with `celery --app {{ cookiecutter.__package_name }}.jobs.app worker --loglevel INFO`.

Delivery is at least once: a task is acknowledged only after it finished
(`task_acks_late`), and a worker that dies mid-task gives it back to the queue
(`task_reject_on_worker_lost`). So every task must be idempotent: running it twice
has the same effect as running it once.
"""

from typing import Any

from celery import Celery, Task
from celery.signals import celeryd_init, worker_init, worker_process_init
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError

from ..core.config import Settings, get_settings
from ..tracing import trace_celery, tracing_wanted


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


# What reading or subscribing to the result store (Redis) raises when it does not answer.
RESULTS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def celery_config(settings: Settings) -> dict[str, Any]:
    visibility = settings.celery_visibility_timeout_in_effect
    return {
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        # A result store that does not answer fails a status read within seconds, not minutes,
        # and an enqueue after one quick retry, not twenty seconds of them: Celery subscribes
        # to a task's result before it publishes the task.
        "redis_socket_connect_timeout": 2,
        "redis_socket_timeout": 5,
        "result_backend_transport_options": {
            "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
            "global_keyprefix": settings.celery_key_prefix,
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
            # Every broker call is bounded: a Redis that accepts connections and never
            # answers fails a call within these, never hangs it.
            "socket_connect_timeout": 2,
            "socket_timeout": settings.celery_publish_timeout_seconds,
            "global_keyprefix": settings.celery_key_prefix,
            "visibility_timeout": visibility,
            "unacked_restore_interval": min(visibility, 10),
            "unacked_restore_throttle": 1,
        },
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }


# Only in `celery worker` processes (see `patient_workers`). A result the result store
# could not take is stored again, up to 12 times, after waits of up to 20 ms, 40 ms ...
# 10 s (each randomised): some 20 s in all on average, 40 s at most. So a Redis restart
# costs no result and no second run of the task.
WORKER_CONFIG = {
    "result_backend_always_retry": True,
    "result_backend_max_retries": 12,
}


@celeryd_init.connect
def patient_workers(conf: Any, **_: Any) -> None:
    """Workers wait for the result store; the API does not.

    The setting also makes reads of the result store retry, and a request must
    answer 503 at once instead. `celeryd_init` is sent by `celery worker` alone,
    before the worker builds anything: Celery's documented place for worker-only
    configuration.
    """
    conf.update(WORKER_CONFIG)


@worker_init.connect
@worker_process_init.connect
def traced_workers(**_: Any) -> None:
    """A worker's tasks continue the traces of the requests that enqueued them, when the
    OpenTelemetry variables ask for traces (see `tracing`): in the worker's main process
    and in each process it forks, whose export thread the fork did not carry over."""
    if tracing_wanted():
        trace_celery()


def create_celery(settings: Settings) -> Celery:
    app = Celery(settings.celery_queue, include=[f"{__package__}.tasks"])
    app.conf.update(celery_config(settings))
    return app


celery_app = create_celery(get_settings())
