"""`/api/v1/items`: the items' routes."""

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from ...models.items import Item, ItemCreate, ItemRead, ItemUpdate
from ...notifications import announce_item_created
from ..deps import Id, PageDep, StoreDep
from ..resources import Resource

items = Resource("items", Item, ItemRead)
router = APIRouter(prefix=items.path, tags=["items"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=items.conflict,
    dependencies=[items.can_write],
)
async def create_item(store: StoreDep, data: ItemCreate, background: BackgroundTasks) -> ItemRead:
    item = await items.create(store, data)
    background.add_task(announce_item_created, item.id, item.name)
    return item


@router.get(
    "",
    response_model=list[ItemRead],
    responses=items.not_modified,
    dependencies=[items.can_read],
)
async def list_items(request: Request, store: StoreDep, page: PageDep) -> Response:
    return await items.read_page(request, store, page)


@router.get(
    "/{item_id}",
    response_model=ItemRead,
    responses={**items.not_found, **items.not_modified},
    dependencies=[items.can_read],
)
async def read_item(request: Request, store: StoreDep, item_id: Id) -> Response:
    return await items.read_one(request, store, item_id)


@router.patch(
    "/{item_id}",
    responses={**items.not_found, **items.conflict},
    dependencies=[items.can_write],
)
async def update_item(store: StoreDep, item_id: Id, data: ItemUpdate) -> ItemRead:
    return await items.update(store, item_id, data)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**items.not_found, **items.conflict},
    dependencies=[items.can_write],
)
async def delete_item(store: StoreDep, item_id: Id) -> None:
    await items.delete(store, item_id)
