from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from ... import crud
from ...models import ID_MAX, Item, ItemCreate, ItemRead, ItemUpdate
from .. import API_V1
from ..deps import PageDep, SessionDep
from ..errors import conflict_on_integrity_error, described

router = APIRouter(prefix=f"{API_V1}/items", tags=["items"])

ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]
NO_CATEGORY = "The category does not exist"
NOT_FOUND = described(status.HTTP_404_NOT_FOUND, "Item not found")
CATEGORY_CONFLICT = described(status.HTTP_409_CONFLICT, NO_CATEGORY)


async def _get_or_404(session: SessionDep, item_id: int) -> Item:
    item = await crud.get_item(session, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")
    return item


@router.post("", status_code=status.HTTP_201_CREATED, responses=CATEGORY_CONFLICT)
async def create_item(session: SessionDep, data: ItemCreate) -> ItemRead:
    async with conflict_on_integrity_error(session, NO_CATEGORY):
        item = await crud.create_item(session, data)
    return ItemRead.model_validate(item)


@router.get("")
async def list_items(session: SessionDep, page: PageDep) -> list[ItemRead]:
    items = await crud.list_items(session, limit=page.limit, offset=page.offset)
    return [ItemRead.model_validate(item) for item in items]


@router.get("/{item_id}", responses=NOT_FOUND)
async def read_item(session: SessionDep, item_id: ItemId) -> ItemRead:
    return ItemRead.model_validate(await _get_or_404(session, item_id))


@router.patch("/{item_id}", responses={**NOT_FOUND, **CATEGORY_CONFLICT})
async def update_item(session: SessionDep, item_id: ItemId, data: ItemUpdate) -> ItemRead:
    item = await _get_or_404(session, item_id)
    async with conflict_on_integrity_error(session, NO_CATEGORY):
        item = await crud.update_item(session, item, data)
    return ItemRead.model_validate(item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_item(session: SessionDep, item_id: ItemId) -> None:
    await crud.delete_item(session, await _get_or_404(session, item_id))
