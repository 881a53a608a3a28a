"""Database access for the resources; handlers stay free of query code.

Item reads and writes are single statements on the columns of `ItemRead`, run on
the session's connection (and so in its transaction): no identity map, no change
tracking, and a write that finds no row says so in the same round trip (a
concurrent delete is a 404, never a stale-object error).
Categories are read the same way, their item counts aggregated in the same query.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import (
    Category,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    Item,
    ItemCreate,
    ItemRead,
    name_key,
)

# Derived from the response model, so a field added to the model is read and written
# everywhere without another list to keep in step.
ITEM_COLUMNS = tuple(Item.__table__.c[name] for name in ItemRead.model_fields)  # type: ignore[attr-defined]
CATEGORY_COLUMNS = tuple(Category.__table__.c[name] for name in CategoryRead.model_fields)  # type: ignore[attr-defined]


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


async def create_category(session: AsyncSession, data: CategoryCreate) -> RowMapping:
    connection = await session.connection()
    values = data.model_dump() | {"name_key": name_key(data.name)}
    statement = insert(Category).values(values).returning(*CATEGORY_COLUMNS)
    row = (await connection.execute(statement)).mappings().one()
    await session.commit()
    return row


async def list_categories(
    session: AsyncSession, *, limit: int, offset: int
) -> Sequence[RowMapping]:
    """A page of categories with their item counts, in one query however many there are.

    Counting each category's items with a query of its own would be N+1 queries; the
    join and GROUP BY let the database count them all at once.
    """
    connection = await session.connection()
    item_count = func.count(col(Item.id)).label("item_count")
    statement = (
        select(*CATEGORY_COLUMNS, item_count)
        .outerjoin(Item, col(Item.category_id) == col(Category.id))
        .group_by(col(Category.id))
        .order_by(col(Category.id))
        .offset(offset)
        .limit(limit)
    )
    return (await connection.execute(statement)).mappings().all()


async def read_category(session: AsyncSession, category_id: int) -> RowMapping | None:
    connection = await session.connection()
    statement = select(*CATEGORY_COLUMNS).where(col(Category.id) == category_id)
    return (await connection.execute(statement)).mappings().first()


async def read_category_items(
    session: AsyncSession, category_id: int, *, limit: int
) -> Sequence[RowMapping]:
    connection = await session.connection()
    statement = (
        select(*ITEM_COLUMNS)
        .where(col(Item.category_id) == category_id)
        .order_by(col(Item.id))
        .limit(limit)
    )
    return (await connection.execute(statement)).mappings().all()


async def update_category(
    session: AsyncSession, category_id: int, data: CategoryUpdate
) -> RowMapping | None:
    connection = await session.connection()
    statement = (
        update(Category)
        .where(col(Category.id) == category_id)
        .values(name=data.name, name_key=name_key(data.name))
        .returning(*CATEGORY_COLUMNS)
    )
    row = (await connection.execute(statement)).mappings().first()
    await session.commit()
    return row


async def delete_category(session: AsyncSession, category_id: int) -> bool:
    connection = await session.connection()
    statement = delete(Category).where(col(Category.id) == category_id).returning(col(Category.id))
    deleted = (await connection.execute(statement)).first() is not None
    await session.commit()
    return deleted
