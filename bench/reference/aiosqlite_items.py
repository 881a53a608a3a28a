"""`GET /api/v1/items/{id}` written by hand over aiosqlite: a few open connections, one query.

It answers with exactly the bytes the generated service sends for an item (same keys
in the same order, the price as a string with two places), so the two differ only in
what the service does around the query.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
from fastapi import FastAPI, HTTPException

PATH = os.environ["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
QUERY = "SELECT id, name, description, price, category_id FROM item WHERE id = ?"
# The service's DATABASE_READ_POOL_SIZE, whose default is 5.
CONNECTIONS = int(os.environ.get("DATABASE_READ_POOL_SIZE", "5"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await aiosqlite.connect(PATH))
    app.state.pool = pool
    try:
        yield
    finally:
        while not pool.empty():
            await pool.get_nowait().close()


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/items/{item_id}")
async def read_item(item_id: int):  # no response model: the hand-written way
    pool: asyncio.Queue[aiosqlite.Connection] = app.state.pool
    connection = await pool.get()
    try:
        async with connection.execute(QUERY, (item_id,)) as cursor:
            row = await cursor.fetchone()
    finally:
        pool.put_nowait(connection)
    if row is None:
        raise HTTPException(404, detail="Item not found")
    item_id, name, description, price, category_id = row
    return {
        "name": name,
        "description": description,
        "price": f"{price:.2f}",
        "category_id": category_id,
        "id": item_id,
    }
