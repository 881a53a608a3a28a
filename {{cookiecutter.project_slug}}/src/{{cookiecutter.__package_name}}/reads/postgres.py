"""Item reads through asyncpg, on a pool of their own."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

from ..core.config import Settings
from .base import COLUMNS, DatabaseUnavailable, Row, Turns

ITEM_BY_ID = f"SELECT {COLUMNS} FROM item WHERE id = $1"  # noqa: S608
ITEM_PAGE = f"SELECT {COLUMNS} FROM item ORDER BY id LIMIT $1 OFFSET $2"  # noqa: S608
# The server is out of reach: the handlers answer 503, as for SQLAlchemy's errors.
UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)


class ItemReader:
    def __init__(self, pool: asyncpg.Pool, turns: Turns) -> None:
        self.pool = pool
        self.turns = turns

    async def item(self, item_id: int) -> Row | None:
        try:
            async with self.turns, self.pool.acquire() as connection:
                row: Row | None = await connection.fetchrow(ITEM_BY_ID, item_id)
        except UNAVAILABLE as error:
            raise DatabaseUnavailable from error
        return row

    async def page(self, limit: int, offset: int) -> Sequence[Row]:
        try:
            async with self.turns, self.pool.acquire() as connection:
                rows: Sequence[Row] = await connection.fetch(ITEM_PAGE, limit, offset)
        except UNAVAILABLE as error:
            raise DatabaseUnavailable from error
        return rows


async def keep_session(_connection: asyncpg.Connection) -> None:
    """No reset when a connection returns to the pool (asyncpg's default is `RESET ALL` and
    more, a round trip per read): a read changes no session state."""


@asynccontextmanager
async def open_item_reader(settings: Settings) -> AsyncIterator[ItemReader]:
    """A pool of `DATABASE_READ_POOL_SIZE` connections, opened as reads need them."""
    url = make_url(settings.database_url).set(drivername="postgresql")
    pool = await asyncpg.create_pool(
        url.render_as_string(hide_password=False),
        min_size=0,
        max_size=settings.database_read_pool_size,
        timeout=settings.database_connect_timeout,
        command_timeout=settings.database_statement_timeout,
        reset=keep_session,
    )
    try:
        turns = Turns(settings.database_read_pool_size, settings.database_pool_timeout)
        yield ItemReader(pool, turns)
    finally:
        await pool.close()
