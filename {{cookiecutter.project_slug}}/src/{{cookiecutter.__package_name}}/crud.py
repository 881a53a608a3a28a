"""Database access for the resources; handlers stay free of query code.

Item reads and writes are single statements on the columns of `ItemRead`, run on
the session's connection (and so in its transaction): no identity map, no change
tracking, and a write that finds no row says so in the same round trip (a
concurrent delete is a 404, never a stale-object error).
The ORM earns its keep where relations are loaded (categories with their items).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.orm import selectinload
from sqlmodel import col
from sqlmodel import select as select_models
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Category, CategoryCreate, Item, ItemCreate, ItemRead

# Derived from the response model, so a field added to the model is read and written
# everywhere without another list to keep in step.
ITEM_COLUMNS = tuple(Item.__table__.c[name] for name in ItemRead.model_fields)  # type: ignore[attr-defined]


async def read_item(session: AsyncSession, item_id: int) -> RowMapping | None:
    connection = await session.connection()
    statement = select(*ITEM_COLUMNS).where(col(Item.id) == item_id)
    return (await connection.execute(statement)).mappings().first()


async def read_items(session: AsyncSession, *, limit: int, offset: int) -> Sequence[RowMapping]:
    connection = await session.connection()
    statement = select(*ITEM_COLUMNS).order_by(col(Item.id)).offset(offset).limit(limit)
    return (await connection.execute(statement)).mappings().all()


async def create_item(session: AsyncSession, data: ItemCreate) -> RowMapping:
    connection = await session.connection()
    statement = insert(Item).values(data.model_dump()).returning(*ITEM_COLUMNS)
    row = (await connection.execute(statement)).mappings().one()
    await session.commit()
    return row


async def update_item(
    session: AsyncSession, item_id: int, changes: dict[str, Any]
) -> RowMapping | None:
    """The updated item, or None if it does not exist (or was just deleted)."""
    if not changes:
        return await read_item(session, item_id)
    connection = await session.connection()
    statement = update(Item).where(col(Item.id) == item_id).values(changes).returning(*ITEM_COLUMNS)
    row = (await connection.execute(statement)).mappings().first()
    await session.commit()
    return row


async def delete_item(session: AsyncSession, item_id: int) -> bool:
    """Whether this call deleted the item: of two racing deletes, only one did."""
    connection = await session.connection()
    statement = delete(Item).where(col(Item.id) == item_id).returning(col(Item.id))
    deleted = (await connection.execute(statement)).first() is not None
    await session.commit()
    return deleted


async def create_category(session: AsyncSession, data: CategoryCreate) -> Category:
    category = Category.model_validate(data)
    session.add(category)
    await session.commit()
    return category


async def list_categories_with_items(
    session: AsyncSession, *, limit: int, offset: int
) -> Sequence[Category]:
    """Categories and their items in two queries, however many categories there are.

    Touching `category.items` lazily would issue one query per category (N+1), and
    lazy loading is not even possible under asyncio; `selectinload` fetches every
    category's items with a single `WHERE category_id IN (...)`.
    """
    statement = (
        select_models(Category)
        .options(selectinload(Category.items))  # type: ignore[arg-type]
        .order_by(col(Category.id))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(statement)).all()
