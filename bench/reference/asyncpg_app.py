"""The service's reads and item writes by hand: FastAPI and an `asyncpg.Pool`, nothing else.

Every route runs the SQL the generated service sends (`queries.POSTGRES`) on a
pool as large as the service's (`DATABASE_POOL_SIZE`; the bench sets 8) and answers
exactly the bytes the service sends: same keys in the same order, money as a
string with two places. Writes validate their body with the project's own
`ItemCreate` and `ItemUpdate`, as the service does, and run one INSERT or UPDATE
with RETURNING. Its pool, like the service's, returns a connection without
asyncpg's reset query (neither sets session state). So the service and this app
differ only in what the service does around the query.
"""

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, HTTPException, Query
from queries import CREATED, item_update
from queries import POSTGRES as SQL

models = import_module(f"{os.environ['BENCH_PACKAGE']}.models.items")
ItemCreate, ItemUpdate = models.ItemCreate, models.ItemUpdate

DSN = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
ITEM_COLUMNS = ("name", "description", "price", "category_id")
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


async def keep_session(connection: asyncpg.Connection) -> None:
    """Nothing beyond what asyncpg always does on release (roll back a transaction)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        DSN, min_size=POOL_SIZE, max_size=POOL_SIZE, reset=keep_session
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def item(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "price": f"{row['price']:.2f}",
        "category_id": row["category_id"],
        "id": row["id"],
    }


def order(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": row["title"],
        "note": row["note"],
        "quantity": row["quantity"],
        "price": f"{row['price']:.2f}",
        "item_id": row["item_id"],
        "id": row["id"],
    }


@app.get("/api/v1/items/{item_id}")
async def read_item(item_id: int):  # no response model: the hand-written way
    row = await app.state.pool.fetchrow(SQL["items.by_id"], item_id)
    if row is None:
        raise HTTPException(404, detail="Item not found")
    return item(row)


@app.get("/api/v1/items")
async def list_items(limit: Limit = 20, offset: Offset = 0):
    return [item(row) for row in await app.state.pool.fetch(SQL["items.page"], limit, offset)]


@app.post("/api/v1/items", status_code=201)
async def create_item(data: ItemCreate):
    values = data.model_dump()
    try:
        row = await app.state.pool.fetchrow(SQL["items.insert"], *(values[c] for c in CREATED))
    except asyncpg.ForeignKeyViolationError:
        raise HTTPException(409, detail="The category does not exist") from None
    return item(row)


@app.patch("/api/v1/items/{item_id}")
async def update_item(item_id: int, data: ItemUpdate):
    values = data.model_dump(exclude_unset=True)
    if values:
        columns = tuple(c for c in ITEM_COLUMNS if c in values)
        query, arguments = item_update(columns), [*(values[c] for c in columns), item_id]
    else:
        query, arguments = SQL["items.by_id"], [item_id]
    try:
        row = await app.state.pool.fetchrow(query, *arguments)
    except asyncpg.ForeignKeyViolationError:
        raise HTTPException(409, detail="The category does not exist") from None
    if row is None:
        raise HTTPException(404, detail="Item not found")
    return item(row)


@app.get("/api/v1/categories/{category_id}")
async def read_category(category_id: int, items_limit: Limit = 20):
    """The category and its first items, in two statements, as the service reads it."""
    pool = app.state.pool
    category = await pool.fetchrow(SQL["categories.by_id"], category_id)
    if category is None:
        raise HTTPException(404, detail="Category not found")
    rows = await pool.fetch(SQL["categories.items"], category_id, items_limit)
    return {"name": category["name"], "id": category["id"], "items": [item(row) for row in rows]}


@app.get("/api/v1/categories")
async def list_categories(limit: Limit = 20, offset: Offset = 0):
    rows = await app.state.pool.fetch(SQL["categories.page"], limit, offset)
    return [{"name": r["name"], "id": r["id"], "item_count": r["item_count"]} for r in rows]


@app.get("/api/v1/orders/{order_id}")
async def read_order(order_id: int):
    row = await app.state.pool.fetchrow(SQL["orders.by_id"], order_id)
    if row is None:
        raise HTTPException(404, detail="Order not found")
    return order(row)


@app.get("/api/v1/orders")
async def list_orders(limit: Limit = 20, offset: Offset = 0):
    return [order(row) for row in await app.state.pool.fetch(SQL["orders.page"], limit, offset)]
