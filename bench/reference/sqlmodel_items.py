"""`GET /api/v1/items/{id}` the way SQLModel's documentation teaches a route, over the project's models.

An async engine (`create_async_engine`, a pool as large as the service's), a
session per request from a dependency, `session.get(Item, item_id)`, and the
project's own `ItemRead` as the response model: what an owner writes by hand
beside the generated routes. Set against the raw asyncpg reference and the
service, it shows what the ORM session costs a read.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

models = import_module(f"{os.environ['BENCH_PACKAGE']}.models.items")
Item, ItemRead = models.Item, models.ItemRead

POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=POOL_SIZE, max_overflow=0)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/items/{item_id}", response_model=ItemRead)
async def read_item(item_id: int, session: SessionDep):
    item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(404, detail="Item not found")
    return item
