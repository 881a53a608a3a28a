"""`/api/v1/categories`: the categories' routes, each read with its items in a fixed
number of queries however many there are (never one query per category)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import bindparam, func, select
from sqlmodel import col

from ...db import Statement
from ...models.categories import (
    Category,
    CategoryCreate,
    CategoryRead,
    CategorySummary,
    CategoryUpdate,
    CategoryWithItems,
    name_key,
)
from ...models.items import Item
from ..deps import PAGE_SIZE_MAX, Id, PageDep, StoreDep
from ..resources import Resource
from .items import items


def with_name_key(values: dict[str, Any]) -> dict[str, Any]:
    """Keep the unique `name_key` in step with the name a client sends."""
    if "name" in values:
        values["name_key"] = name_key(values["name"])
    return values


categories = Resource(
    "categories",
    Category,
    CategoryRead,
    conflicts={"name_key": "A category with this name exists"},
    derive=with_name_key,
    # Its reads count and list items, so every write to items changes them.
    depends_on=["items"],
)
router = APIRouter(prefix=categories.path, tags=["categories"])

# The join and GROUP BY count every category's items at once.
SUMMARIES = Statement(
    select(*categories.columns, func.count(col(Item.id)).label("item_count"))
    .outerjoin(Item, col(Item.category_id) == col(Category.id))
    .group_by(col(Category.id))
    .order_by(col(Category.id))
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
ITEMS_OF_CATEGORY = Statement(
    select(*items.columns)
    .where(col(Item.category_id) == bindparam("category_id"))
    .order_by(col(Item.id))
    .limit(bindparam("limit"))
)
ItemsLimit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=categories.conflict,
    dependencies=[categories.can_write],
)
async def create_category(store: StoreDep, data: CategoryCreate) -> CategoryRead:
    """Names are unique whatever their case."""
    return await categories.create(store, data)


@router.get(
    "",
    response_model=list[CategorySummary],
    responses=categories.not_modified,
    dependencies=[categories.can_read],
)
async def list_categories(request: Request, store: StoreDep, page: PageDep) -> Response:
    """Each category with the number of its items, counted in the same query."""

    async def load() -> list[CategorySummary]:
        rows = await store.database.fetch_all(SUMMARIES, limit=page.limit, offset=page.offset)
        return [CategorySummary.model_construct(**row) for row in rows]

    entry = f"summaries:{page.limit}:{page.offset}"
    return await categories.cached(request, store, CategorySummary, entry, load)


@router.get(
    "/{category_id}",
    response_model=CategoryWithItems,
    responses={**categories.not_found, **categories.not_modified},
    dependencies=[categories.can_read],
)
async def read_category(
    request: Request, store: StoreDep, category_id: Id, items_limit: ItemsLimit = 20
) -> Response:
    """The category and its first `items_limit` items (page through all of them at
    `/api/v1/items`), in two queries."""

    async def load() -> CategoryWithItems | None:
        category = await categories.find(store, category_id)
        if category is None:
            return None
        rows = await store.database.fetch_all(
            ITEMS_OF_CATEGORY, category_id=category_id, limit=items_limit
        )
        return CategoryWithItems.model_construct(
            **category.model_dump(), items=[items.model(row) for row in rows]
        )

    entry = f"{category_id}:items:{items_limit}"
    return await categories.cached(request, store, CategoryWithItems, entry, load, row=category_id)


@router.patch(
    "/{category_id}",
    responses={**categories.not_found, **categories.conflict},
    dependencies=[categories.can_write],
)
async def update_category(store: StoreDep, category_id: Id, data: CategoryUpdate) -> CategoryRead:
    return await categories.update(store, category_id, data)


@router.delete(
    "/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**categories.not_found, **categories.conflict},
    dependencies=[categories.can_write],
)
async def delete_category(store: StoreDep, category_id: Id) -> None:
    """Refused while items belong to the category: move or delete them first."""
    await categories.delete(store, category_id)
