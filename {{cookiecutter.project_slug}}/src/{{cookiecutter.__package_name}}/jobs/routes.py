"""Routes of the Celery option: enqueueing the example task, and any task's status."""

from typing import Annotated, Any

from celery.result import AsyncResult
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..api import API_V1
from ..api.deps import Id, StoreDep
from ..api.routes.categories import categories
{% if cookiecutter.auth == "oauth2" %}
from ..auth.access import in_production
{% endif %}
from ..core.error_body import described
from .app import RESULTS_DOWN, celery_app
from .enqueue import QUEUE_UNAVAILABLE, enqueue
from .tasks import summarise_category

router = APIRouter(prefix=API_V1)

TaskId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

RESULTS_UNAVAILABLE = "Task results are unavailable; try again later"


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
        **categories.not_found,
        **described(status.HTTP_503_SERVICE_UNAVAILABLE, QUEUE_UNAVAILABLE),
    },
    dependencies=[categories.can_read],
)
async def summarise(store: StoreDep, category_id: Id) -> TaskAccepted:
    """Queue a count of the category's items and their average price.

    The summary is the task's result: poll `status_url` until its state is SUCCESS.
    """
    if await categories.find(store, category_id) is None:
        raise categories.missing()
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
{% if cookiecutter.auth == "oauth2" %}
    # Anyone may poll a task in development; in production, holders of `tasks:read`.
    dependencies=[in_production("tasks:read")],
{% endif %}
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
