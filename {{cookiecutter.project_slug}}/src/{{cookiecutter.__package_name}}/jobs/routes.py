"""The state of a background task, by id."""

from typing import Annotated, Any

from celery.result import AsyncResult
from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .app import celery_app
from ..api import API_V1

router = APIRouter(prefix=f"{API_V1}/tasks", tags=["tasks"])

TaskId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class TaskStatus(BaseModel):
    task_id: str
    # PENDING (also for unknown ids: Celery cannot tell them apart), STARTED, RETRY,
    # SUCCESS or FAILURE.
    state: str
    result: Any = None
    error: str | None = None


def _status(task_id: str) -> TaskStatus:
    result: AsyncResult[Any] = AsyncResult(task_id, app=celery_app)
    state = result.state
    if state == "SUCCESS":
        return TaskStatus(task_id=task_id, state=state, result=result.result)
    if state == "FAILURE":
        return TaskStatus(task_id=task_id, state=state, error=type(result.result).__name__)
    return TaskStatus(task_id=task_id, state=state)


@router.get("/{task_id}")
async def read_task(task_id: TaskId) -> TaskStatus:
    # The result backend is read with blocking I/O: keep it off the event loop.
    return await run_in_threadpool(_status, task_id)
