from fastapi import APIRouter, status

from ... import crud
from ...models import CategoryCreate, CategoryRead, CategoryReadWithItems
from .. import API_V1
from ..deps import PageDep, SessionDep
from ..errors import conflicts, described

router = APIRouter(prefix=f"{API_V1}/categories", tags=["categories"])

NAME_TAKEN = "A category with this name exists"
NAME_CONFLICT = described(status.HTTP_409_CONFLICT, NAME_TAKEN)


@router.post("", status_code=status.HTTP_201_CREATED, responses=NAME_CONFLICT)
async def create_category(session: SessionDep, data: CategoryCreate) -> CategoryRead:
    async with conflicts(session, unique=NAME_TAKEN):
        category = await crud.create_category(session, data)
    return CategoryRead.model_validate(category)


@router.get("")
async def list_categories(session: SessionDep, page: PageDep) -> list[CategoryReadWithItems]:
    """Each category with its items, loaded without one query per category."""
    categories = await crud.list_categories_with_items(
        session, limit=page.limit, offset=page.offset
    )
    return [CategoryReadWithItems.model_validate(category) for category in categories]
