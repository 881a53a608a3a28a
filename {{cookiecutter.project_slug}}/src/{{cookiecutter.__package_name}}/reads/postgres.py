"""Item reads through asyncpg, on connections of their own.

No `asyncpg.Pool`: `Turns` already bounds and orders the reads, and the pool's own
bookkeeping (a task to shield every release, a reset query per release unless told
otherwise) cost more than the rest of the read around the query.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from ..core.config import Settings
from .base import COLUMNS, DatabaseUnavailable, Row, Turns

ITEM_BY_ID = f"SELECT {COLUMNS} FROM item WHERE id = $1"  # noqa: S608
ITEM_PAGE = f"SELECT {COLUMNS} FROM item ORDER BY id LIMIT $1 OFFSET $2"  # noqa: S608
# The server is out of reach: the handlers answer 503, as for SQLAlchemy's errors.
UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)

Result = TypeVar("Result")


class ItemReader:
    """Up to `size` connections, opened when a read needs one and kept while they work.

    asyncpg prepares each statement once per connection and reuses it.
    """

    def __init__(self, dsn: str, size: int, settings: Settings) -> None:
        self.dsn = dsn
        self.connect_timeout = settings.database_connect_timeout
        self.statement_timeout = settings.database_statement_timeout
        self.turns = Turns(size, settings.database_pool_timeout)
        self.idle: list[asyncpg.Connection] = []

    async def item(self, item_id: int) -> Row | None:
        return await self.run(lambda connection: connection.fetchrow(ITEM_BY_ID, item_id))

    async def page(self, limit: int, offset: int) -> Sequence[Row]:
        return await self.run(lambda connection: connection.fetch(ITEM_PAGE, limit, offset))

    async def run(self, query: Callable[[asyncpg.Connection], Awaitable[Result]]) -> Result:
        async with self.turns:
            connection = await self.take()
            try:
                result = await query(connection)
            except BaseException as error:
                # Broken, timed out or cancelled mid-query: its state is unknown, so it
                # is dropped rather than handed to the next read.
                connection.terminate()
                if isinstance(error, UNAVAILABLE):
                    raise DatabaseUnavailable from error
                raise
            self.idle.append(connection)
            return result

    async def take(self) -> asyncpg.Connection:
        while self.idle:
            connection = self.idle.pop()
            if not connection.is_closed():  # the server may have closed it while idle
                return connection
        try:
            opened: asyncpg.Connection = await asyncpg.connect(
                self.dsn, timeout=self.connect_timeout, command_timeout=self.statement_timeout
            )
        except UNAVAILABLE as error:
            raise DatabaseUnavailable from error
        return opened

    async def close(self) -> None:
        while self.idle:
            await self.idle.pop().close(timeout=self.connect_timeout)


@asynccontextmanager
async def open_item_reader(settings: Settings) -> AsyncIterator[ItemReader]:
    """`DATABASE_READ_POOL_SIZE` connections at most, opened as reads need them."""
    url = make_url(settings.database_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    reader = ItemReader(dsn, settings.database_read_pool_size, settings)
    try:
        yield reader
    finally:
        await reader.close()
