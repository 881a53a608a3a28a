"""`GET /api/v1/items/{id}` written by hand: one pooled asyncpg query, no ORM, no session.

It returns the same JSON as the generated service (same keys, same order), so the
two differ only in what the service does around the query.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException

DSN = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
QUERY = "SELECT id, name, description, price, category_id FROM item WHERE id = $1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # As many connections as the service's pool may open (pool_size + max_overflow).
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=20)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/items/{item_id}")
async def read_item(item_id: int):  # no response model: the hand-written way
    row = await app.state.pool.fetchrow(QUERY, item_id)
    if row is None:
        raise HTTPException(404, detail="Item not found")
    return {
        "name": row["name"],
        "description": row["description"],
        "price": row["price"],
        "category_id": row["category_id"],
        "id": row["id"],
    }
