"""Enqueueing Celery tasks from request handlers.

Publishing to the broker is blocking socket I/O, so it runs in the thread pool,
never on the event loop. If the broker is down, the client gets a 503 within
about a second instead of a hung request.
"""

from typing import Any

from celery import Task
from fastapi import HTTPException, status
from kombu.exceptions import OperationalError
from starlette.concurrency import run_in_threadpool

PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
QUEUE_UNAVAILABLE = "The task queue is unavailable; try again later"


async def enqueue(task: Task[Any, Any], *args: Any) -> str:
    """Send `task(*args)` to the workers; return its id."""
    try:
        result = await run_in_threadpool(
            task.apply_async, args, retry=True, retry_policy=PUBLISH_RETRY
        )
    except (OperationalError, ConnectionError, TimeoutError) as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=QUEUE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        ) from error
    task_id: str = result.id
    return task_id
