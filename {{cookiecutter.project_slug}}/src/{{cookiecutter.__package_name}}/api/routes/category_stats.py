"""Category statistics, computed by a Celery task rather than in the request."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel

from ...models import ID_MAX, Category, CategoryStats, CategoryStatsRead
from ...tasks import refresh_category_stats
from .. import API_V1
from ..deps import SessionDep
from ..errors import described
from ..queue import QUEUE_UNAVAILABLE, enqueue

router = APIRouter(prefix=f"{API_V1}/categories", tags=["categories"])

CategoryId = Annotated[int, Path(ge=1, le=ID_MAX)]
NOT_FOUND = described(status.HTTP_404_NOT_FOUND, "Category not found")
NO_STATS = described(status.HTTP_404_NOT_FOUND, "No statistics computed yet")


class TaskAccepted(BaseModel):
    task_id: str
    status_url: str


@router.post(
    "/{category_id}/stats/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **described(status.HTTP_503_SERVICE_UNAVAILABLE, QUEUE_UNAVAILABLE)},
)
async def refresh_stats(
    request: Request, session: SessionDep, category_id: CategoryId
) -> TaskAccepted:
    """Queue a recount; poll `status_url` for its progress."""
    if await session.get(Category, category_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Category not found")
    task_id = await enqueue(refresh_category_stats, category_id)
    return TaskAccepted(
        task_id=task_id, status_url=str(request.url_for("read_task", task_id=task_id))
    )


@router.get("/{category_id}/stats", responses=NO_STATS)
async def read_stats(session: SessionDep, category_id: CategoryId) -> CategoryStatsRead:
    stats = await session.get(CategoryStats, category_id)
    if stats is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No statistics computed yet")
    return CategoryStatsRead.model_validate(stats)
