from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Request, Response, status
from pydantic import TypeAdapter

from ... import crud
from ...models import ID_MAX, Item, ItemCreate, ItemRead, ItemUpdate
from ...notifications import announce_item_created
from .. import API_V1
{% if cookiecutter.use_redis %}
from ..deps import CacheDep, PageDep, ReaderFactoryDep, SessionDep, SessionFactory
{% else %}
from ..deps import PageDep, ReaderFactoryDep, SessionDep, SessionFactory
{% endif %}
from ..errors import conflict_on_integrity_error, described
from ..http_cache import conditional_json

router = APIRouter(prefix=f"{API_V1}/items", tags=["items"])

ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]
NO_CATEGORY = "The category does not exist"
NOT_FOUND = described(status.HTTP_404_NOT_FOUND, "Item not found")
CATEGORY_CONFLICT = described(status.HTTP_409_CONFLICT, NO_CATEGORY)
ITEM_JSON = TypeAdapter(ItemRead)
PAGE_JSON = TypeAdapter(list[ItemRead])


async def _get_or_404(session: SessionDep, item_id: int) -> Item:
    item = await crud.get_item(session, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")
    return item


async def load_item(readers: SessionFactory, item_id: int) -> bytes:
    async with readers() as session:
        row = await crud.read_item(session, item_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")
    return ITEM_JSON.dump_json(ItemRead.model_validate(row))


async def load_page(readers: SessionFactory, limit: int, offset: int) -> bytes:
    async with readers() as session:
        rows = await crud.read_items(session, limit=limit, offset=offset)
    return PAGE_JSON.dump_json([ItemRead.model_validate(row) for row in rows])


@router.post("", status_code=status.HTTP_201_CREATED, responses=CATEGORY_CONFLICT)
{% if cookiecutter.use_redis %}
async def create_item(
    session: SessionDep, cache: CacheDep, background: BackgroundTasks, data: ItemCreate
) -> ItemRead:
{% else %}
async def create_item(
    session: SessionDep, background: BackgroundTasks, data: ItemCreate
) -> ItemRead:
{% endif %}
    async with conflict_on_integrity_error(session, NO_CATEGORY):
        item = await crud.create_item(session, data)
{% if cookiecutter.use_redis %}
    await cache.invalidate_pages()
{% endif %}
    created = ItemRead.model_validate(item)
    background.add_task(announce_item_created, created.id, created.name)
    return created


{% if cookiecutter.use_redis %}
@router.get("", response_model=list[ItemRead])
async def list_items(
    request: Request, readers: ReaderFactoryDep, cache: CacheDep, page: PageDep
) -> Response:
    body, hit = await cache.read_through(
        cache.page_key(page.limit, page.offset),
        lambda: load_page(readers, page.limit, page.offset),
    )
    return conditional_json(request, body, {"X-Cache": "hit" if hit else "miss"})


@router.get("/{item_id}", response_model=ItemRead, responses=NOT_FOUND)
async def read_item(
    request: Request, readers: ReaderFactoryDep, cache: CacheDep, item_id: ItemId
) -> Response:
    """Served from Redis when cached: no database session, no re-validation."""
    body, hit = await cache.read_through(
        cache.item_key(item_id), lambda: load_item(readers, item_id)
    )
    return conditional_json(request, body, {"X-Cache": "hit" if hit else "miss"})
{% else %}
@router.get("", response_model=list[ItemRead])
async def list_items(request: Request, readers: ReaderFactoryDep, page: PageDep) -> Response:
    return conditional_json(request, await load_page(readers, page.limit, page.offset))


@router.get("/{item_id}", response_model=ItemRead, responses=NOT_FOUND)
async def read_item(request: Request, readers: ReaderFactoryDep, item_id: ItemId) -> Response:
    return conditional_json(request, await load_item(readers, item_id))
{% endif %}


@router.patch("/{item_id}", responses={**NOT_FOUND, **CATEGORY_CONFLICT})
{% if cookiecutter.use_redis %}
async def update_item(
    session: SessionDep, cache: CacheDep, item_id: ItemId, data: ItemUpdate
) -> ItemRead:
{% else %}
async def update_item(session: SessionDep, item_id: ItemId, data: ItemUpdate) -> ItemRead:
{% endif %}
    item = await _get_or_404(session, item_id)
    async with conflict_on_integrity_error(session, NO_CATEGORY):
        item = await crud.update_item(session, item, data)
{% if cookiecutter.use_redis %}
    await cache.invalidate_item(item_id)
{% endif %}
    return ItemRead.model_validate(item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
{% if cookiecutter.use_redis %}
async def delete_item(session: SessionDep, cache: CacheDep, item_id: ItemId) -> None:
    await crud.delete_item(session, await _get_or_404(session, item_id))
    await cache.invalidate_item(item_id)
{% else %}
async def delete_item(session: SessionDep, item_id: ItemId) -> None:
    await crud.delete_item(session, await _get_or_404(session, item_id))
{% endif %}
