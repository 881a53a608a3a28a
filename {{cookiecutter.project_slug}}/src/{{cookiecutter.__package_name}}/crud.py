"""Database access for the resources; handlers stay free of query code."""

from collections.abc import Sequence

import sqlalchemy
from sqlalchemy import RowMapping
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Category, CategoryCreate, Item, ItemCreate, ItemUpdate

# The columns of `ItemRead`. Reads that only serialise select these rather than
# whole ORM objects: no identity map, no change tracking, a fraction of the work.
ITEM_COLUMNS = (
    col(Item.id),
    col(Item.name),
    col(Item.description),
    col(Item.price),
    col(Item.category_id),
)


async def read_item(session: AsyncSession, item_id: int) -> RowMapping | None:
    statement = sqlalchemy.select(*ITEM_COLUMNS).where(col(Item.id) == item_id)
    connection = await session.connection()
    return (await connection.execute(statement)).mappings().first()


async def read_items(session: AsyncSession, *, limit: int, offset: int) -> Sequence[RowMapping]:
    statement = sqlalchemy.select(*ITEM_COLUMNS).order_by(col(Item.id)).offset(offset).limit(limit)
    connection = await session.connection()
    return (await connection.execute(statement)).mappings().all()


async def get_item(session: AsyncSession, item_id: int) -> Item | None:
    return await session.get(Item, item_id)


async def create_item(session: AsyncSession, data: ItemCreate) -> Item:
    item = Item.model_validate(data)
    session.add(item)
    await session.commit()
    return item


async def update_item(session: AsyncSession, item: Item, data: ItemUpdate) -> Item:
    item.sqlmodel_update(data.model_dump(exclude_unset=True))
    session.add(item)
    await session.commit()
    return item


async def delete_item(session: AsyncSession, item: Item) -> None:
    await session.delete(item)
    await session.commit()


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
        select(Category)
        .options(selectinload(Category.items))  # type: ignore[arg-type]
        .order_by(col(Category.id))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(statement)).all()
