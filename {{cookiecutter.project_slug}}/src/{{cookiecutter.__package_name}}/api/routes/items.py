from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Request, Response, status
from pydantic import TypeAdapter

from ... import crud
from ...models import ID_MAX, ItemCreate, ItemRead, ItemUpdate
from ...notifications import announce_item_created
from ...reads import ItemReader
from .. import API_V1
from ..caching import ResponseCache
from ..deps import CacheDep, PageDep, SessionDep
from ..errors import conflicts, described
from ..http_cache import conditional_json

router = APIRouter(prefix=f"{API_V1}/items", tags=["items"])

ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]
NO_CATEGORY = "The category does not exist"
NOT_FOUND = described(status.HTTP_404_NOT_FOUND, "Item not found")
CATEGORY_CONFLICT = described(status.HTTP_409_CONFLICT, NO_CATEGORY)
ITEM_JSON = TypeAdapter(ItemRead)
PAGE_JSON = TypeAdapter(list[ItemRead])


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")


async def load_item(reader: ItemReader, item_id: int) -> bytes:
    """The response's bytes, built once from the row: the database has already
    constrained every value, so the row is not validated again."""
    row = await reader.item(item_id)
    if row is None:
        raise not_found()
    return ITEM_JSON.dump_json(ItemRead.model_construct(**row))


async def load_page(reader: ItemReader, limit: int, offset: int) -> bytes:
    rows = await reader.page(limit, offset)
    return PAGE_JSON.dump_json([ItemRead.model_construct(**row) for row in rows])


@router.post("", status_code=status.HTTP_201_CREATED, responses=CATEGORY_CONFLICT)
async def create_item(
    session: SessionDep, cache: CacheDep, background: BackgroundTasks, data: ItemCreate
) -> ItemRead:
    async with conflicts(session, foreign_key=NO_CATEGORY):
        created = ItemRead.model_validate(await crud.create_item(session, data))
    await cache.item_added()
    background.add_task(announce_item_created, created.id, created.name)
    return created


# The two reads take the reader and the cache from `app.state` rather than as
# dependencies: each `Depends` costs a few microseconds per request, on the path
# that is measured against a hand-written read (see the README's Performance).


@router.get("", response_model=list[ItemRead])
async def list_items(request: Request, page: PageDep) -> Response:
    reader: ItemReader = request.app.state.item_reader
    cache: ResponseCache = request.app.state.cache
    body, headers = await cache.read_page(
        page.limit, page.offset, lambda: load_page(reader, page.limit, page.offset)
    )
    return conditional_json(request, body, headers)


@router.get("/{item_id}", response_model=ItemRead, responses=NOT_FOUND)
async def read_item(request: Request, item_id: ItemId) -> Response:
    """Served from the cache when there is one, else read straight through the driver."""
    reader: ItemReader = request.app.state.item_reader
    cache: ResponseCache = request.app.state.cache
    body, headers = await cache.read_item(item_id, lambda: load_item(reader, item_id))
    return conditional_json(request, body, headers)


@router.patch("/{item_id}", responses={**NOT_FOUND, **CATEGORY_CONFLICT})
async def update_item(
    session: SessionDep, cache: CacheDep, item_id: ItemId, data: ItemUpdate
) -> ItemRead:
    async with conflicts(session, foreign_key=NO_CATEGORY):
        row = await crud.update_item(session, item_id, data.model_dump(exclude_unset=True))
    if row is None:
        raise not_found()
    await cache.item_changed(item_id)
    return ItemRead.model_validate(row)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_item(session: SessionDep, cache: CacheDep, item_id: ItemId) -> None:
    if not await crud.delete_item(session, item_id):
        raise not_found()
    await cache.item_changed(item_id)
