"""Routes of the Celery option: enqueueing the example task, and any task's status."""

from typing import Annotated, Any

from celery.result import AsyncResult
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.concurrency import run_in_threadpool

from ..api import API_V1
from ..api.deps import SessionDep
from ..api.errors import described
from ..models import ID_MAX, Category
from .app import celery_app
from .enqueue import QUEUE_UNAVAILABLE, enqueue
from .tasks import summarise_category

router = APIRouter(prefix=API_V1)

CategoryId = Annotated[int, Path(ge=1, le=ID_MAX)]
TaskId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

CATEGORY_NOT_FOUND = "Category not found"
RESULTS_UNAVAILABLE = "Task results are unavailable; try again later"
RESULTS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class TaskAccepted(BaseModel):
    task_id: str
    # Relative, so it never names a host the client made up (`Host` is the client's to say).
    status_url: str


class TaskStatus(BaseModel):
    task_id: str
    # PENDING (also for unknown ids), STARTED, RETRY, SUCCESS or FAILURE.
    state: str
    result: Any = None
    error: str | None = None


@router.post(
    "/categories/{category_id}/summary",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["categories"],
    responses={
        **described(status.HTTP_404_NOT_FOUND, CATEGORY_NOT_FOUND),
        **described(status.HTTP_503_SERVICE_UNAVAILABLE, QUEUE_UNAVAILABLE),
    },
)
async def summarise(session: SessionDep, category_id: CategoryId) -> TaskAccepted:
    """Queue a count of the category's items and their average price.

    The summary is the task's result: poll `status_url` until its state is SUCCESS.
    """
    if await session.get(Category, category_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=CATEGORY_NOT_FOUND)
    task_id = await enqueue(summarise_category, category_id)
    return TaskAccepted(
        task_id=task_id, status_url=router.url_path_for("read_task", task_id=task_id)
    )


def _status(task_id: str) -> TaskStatus:
    result: AsyncResult[Any] = AsyncResult(task_id, app=celery_app)
    state = result.state
    if state == "SUCCESS":
        return TaskStatus(task_id=task_id, state=state, result=result.result)
    if state == "FAILURE":
        return TaskStatus(task_id=task_id, state=state, error=type(result.result).__name__)
    return TaskStatus(task_id=task_id, state=state)


@router.get(
    "/tasks/{task_id}",
    tags=["tasks"],
    responses=described(status.HTTP_503_SERVICE_UNAVAILABLE, RESULTS_UNAVAILABLE),
)
async def read_task(task_id: TaskId) -> TaskStatus:
    """The state of a task, and its result once it succeeded.

    An id the result store does not know is PENDING, not a 404: a task waiting in
    the queue has no record yet either, so Celery cannot tell the two apart. Results
    are kept for CELERY_RESULT_EXPIRES_SECONDS, after which a task reads PENDING again.
    """
    try:
        # The result store is read with blocking I/O: keep it off the event loop.
        return await run_in_threadpool(_status, task_id)
    except RESULTS_DOWN as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=RESULTS_UNAVAILABLE,
            headers={"Retry-After": "5"},
        ) from error
