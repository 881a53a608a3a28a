from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from ... import crud
from ...models import (
    ID_MAX,
    CategoryCreate,
    CategoryRead,
    CategoryReadWithItems,
    CategorySummary,
    CategoryUpdate,
    ItemRead,
)
from .. import API_V1
from ..deps import PAGE_SIZE_MAX, PageDep, ReaderFactoryDep, SessionDep
from ..errors import conflicts, described

router = APIRouter(prefix=f"{API_V1}/categories", tags=["categories"])

CategoryId = Annotated[int, Path(ge=1, le=ID_MAX)]
NAME_TAKEN = "A category with this name exists"
HAS_ITEMS = "The category still has items"
NOT_FOUND = described(status.HTTP_404_NOT_FOUND, "Category not found")


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail="Category not found")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=described(status.HTTP_409_CONFLICT, NAME_TAKEN),
)
async def create_category(session: SessionDep, data: CategoryCreate) -> CategoryRead:
    """Names are trimmed and unique whatever their case."""
    async with conflicts(session, unique=NAME_TAKEN):
        row = await crud.create_category(session, data)
    return CategoryRead.model_validate(row)


@router.get("")
async def list_categories(readers: ReaderFactoryDep, page: PageDep) -> list[CategorySummary]:
    """Each category with the number of its items, counted in the same query."""
    async with readers() as session:
        rows = await crud.list_categories(session, limit=page.limit, offset=page.offset)
    return [CategorySummary.model_validate(row) for row in rows]


@router.get("/{category_id}", responses=NOT_FOUND)
async def read_category(
    readers: ReaderFactoryDep,
    category_id: CategoryId,
    items_limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
) -> CategoryReadWithItems:
    """The category and its first `items_limit` items (page through all of them at
    `/api/v1/items`)."""
    async with readers() as session:
        category = await crud.read_category(session, category_id)
        if category is None:
            raise not_found()
        items = await crud.read_category_items(session, category_id, limit=items_limit)
    return CategoryReadWithItems(
        **category, items=[ItemRead.model_validate(item) for item in items]
    )


@router.patch(
    "/{category_id}",
    responses={**NOT_FOUND, **described(status.HTTP_409_CONFLICT, NAME_TAKEN)},
)
async def update_category(
    session: SessionDep, category_id: CategoryId, data: CategoryUpdate
) -> CategoryRead:
    async with conflicts(session, unique=NAME_TAKEN):
        row = await crud.update_category(session, category_id, data)
    if row is None:
        raise not_found()
    return CategoryRead.model_validate(row)


@router.delete(
    "/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **described(status.HTTP_409_CONFLICT, HAS_ITEMS)},
)
async def delete_category(session: SessionDep, category_id: CategoryId) -> None:
    """Refused while items belong to the category: move or delete them first."""
    async with conflicts(session, foreign_key=HAS_ITEMS):
        deleted = await crud.delete_category(session, category_id)
    if not deleted:
        raise not_found()
