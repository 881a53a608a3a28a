"""The service's reads by hand over aiosqlite: FastAPI and one open connection, nothing else.

Every route runs the SQL the generated service sends (`queries.SQLITE`) on one
aiosqlite connection, as the service reads on one, with one trip to the
connection's thread per statement (`execute_fetchall`), and answers exactly the
bytes the service sends: same keys in the same order, money as a string with two
places. So the two differ only in what the service does around the query.
"""

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import aiosqlite
from fastapi import FastAPI, HTTPException, Query
from queries import SQLITE as SQL

PATH = os.environ["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with aiosqlite.connect(PATH) as connection:
        app.state.connection = connection
        yield


app = FastAPI(lifespan=lifespan)


async def rows(query: str, *arguments: Any) -> Iterable[Any]:
    connection: aiosqlite.Connection = app.state.connection
    return await connection.execute_fetchall(query, arguments)


def item(row: Any) -> dict[str, Any]:
    name, description, price, category_id, item_id = row
    return {
        "name": name,
        "description": description,
        "price": f"{price:.2f}",
        "category_id": category_id,
        "id": item_id,
    }


def order(row: Any) -> dict[str, Any]:
    title, note, quantity, price, item_id, order_id = row
    return {
        "title": title,
        "note": note,
        "quantity": quantity,
        "price": f"{price:.2f}",
        "item_id": item_id,
        "id": order_id,
    }


@app.get("/api/v1/items/{item_id}")
async def read_item(item_id: int):  # no response model: the hand-written way
    found = list(await rows(SQL["items.by_id"], item_id))
    if not found:
        raise HTTPException(404, detail="Item not found")
    return item(found[0])


@app.get("/api/v1/items")
async def list_items(limit: Limit = 20, offset: Offset = 0):
    return [item(row) for row in await rows(SQL["items.page"], limit, offset)]


@app.get("/api/v1/categories/{category_id}")
async def read_category(category_id: int, items_limit: Limit = 20):
    """The category and its first items, in two statements, as the service reads it."""
    found = list(await rows(SQL["categories.by_id"], category_id))
    if not found:
        raise HTTPException(404, detail="Category not found")
    name, found_id = found[0]
    listed = await rows(SQL["categories.items"], category_id, items_limit, 0)
    return {"name": name, "id": found_id, "items": [item(row) for row in listed]}


@app.get("/api/v1/categories")
async def list_categories(limit: Limit = 20, offset: Offset = 0):
    listed = await rows(SQL["categories.page"], limit, offset)
    return [{"name": name, "id": found_id, "item_count": count} for name, found_id, count in listed]


@app.get("/api/v1/orders/{order_id}")
async def read_order(order_id: int):
    found = list(await rows(SQL["orders.by_id"], order_id))
    if not found:
        raise HTTPException(404, detail="Order not found")
    return order(found[0])


@app.get("/api/v1/orders")
async def list_orders(limit: Limit = 20, offset: Offset = 0):
    return [order(row) for row in await rows(SQL["orders.page"], limit, offset)]
