"""`GET /api/v1/items/{id}` written by hand: one pooled asyncpg query, no ORM, no session.

It answers with exactly the bytes the generated service sends for an item (same keys
in the same order, the price as a string with two places), so the two differ only in
what the service does around the query. It is written the way asyncpg's own
documentation shows (`pool.fetchrow`, the pool's defaults), with as many connections
as the service keeps for its reads.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException

DSN = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
QUERY = "SELECT id, name, description, price, category_id FROM item WHERE id = $1"
# The service's DATABASE_READ_POOL_SIZE, whose default is 5.
CONNECTIONS = int(os.environ.get("DATABASE_READ_POOL_SIZE", "5"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=CONNECTIONS, max_size=CONNECTIONS)
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
        "price": f"{row['price']:.2f}",
        "category_id": row["category_id"],
        "id": row["id"],
    }
