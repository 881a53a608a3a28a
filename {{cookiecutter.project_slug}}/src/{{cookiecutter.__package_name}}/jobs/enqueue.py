"""Enqueueing Celery tasks from request handlers, and whether the broker answers.

Publishing to the broker is blocking socket I/O, so it runs in the thread pool,
never on the event loop. If the broker or the result store is down, the client
gets a 503 within about a second instead of a hung request; if one accepts
connections and never answers, within CELERY_PUBLISH_TIMEOUT_SECONDS (the thread
is then left to its socket timeout, which has the same bound).
"""

import asyncio
from typing import Any

from anyio import to_thread
from celery import Task
from fastapi import HTTPException, status
from kombu.exceptions import OperationalError

from .app import RESULTS_DOWN, celery_app

# kombu's errors of the broker, or the operating system's.
BROKER_DOWN = (OperationalError, ConnectionError, TimeoutError)
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
QUEUE_UNAVAILABLE = "The task queue is unavailable; try again later"


def queue_unavailable() -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=QUEUE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def _publish(task: Task[Any, Any], args: tuple[Any, ...]) -> str:
    # Only the id leaves the thread: the result handle unsubscribes from the task's
    # result when it is dropped, which is I/O too.
    result = task.apply_async(args, retry=True, retry_policy=PUBLISH_RETRY)
    task_id: str = result.id
    return task_id


async def enqueue(task: Task[Any, Any], *args: Any) -> str:
    """Send `task(*args)` to the workers; return its id.

    Celery subscribes to the task's result before it publishes the task, so the
    result store must answer too. When it does not, Celery gives up with a
    RuntimeError (after `result_backend_transport_options`' retry policy) and
    nothing was published.
    """
    timeout = celery_app.conf.broker_transport_options["socket_timeout"]
    try:
        async with asyncio.timeout(timeout):
            return await to_thread.run_sync(_publish, task, args, abandon_on_cancel=True)
    except TimeoutError as error:
        raise queue_unavailable() from error
    except BROKER_DOWN as error:
        raise queue_unavailable() from error
    except RuntimeError as error:
        if not isinstance(error.__cause__, RESULTS_DOWN):
            raise
        raise queue_unavailable() from error


def _broker_connects(seconds: float) -> None:
    options = {"socket_connect_timeout": seconds, "socket_timeout": seconds}
    with celery_app.connection_for_write(transport_options=options) as connection:
        connection.ensure_connection(max_retries=0)


# The broker must accept a connection within this for `/ready` to count it as up.
BROKER_CHECK_SECONDS = 2.0


async def ping_broker() -> None:
    """Returns when the broker accepts a connection; raises otherwise (see `/ready`).

    It returns on time even when the connection attempt is stuck in its thread
    (which is then left to finish alone): the thread's socket has the same bound.
    """
    async with asyncio.timeout(BROKER_CHECK_SECONDS):
        await to_thread.run_sync(_broker_connects, BROKER_CHECK_SECONDS, abandon_on_cancel=True)
