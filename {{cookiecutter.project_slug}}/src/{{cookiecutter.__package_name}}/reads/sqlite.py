"""Item reads through aiosqlite, on read-only connections of their own."""

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiosqlite
from sqlalchemy.engine import make_url

from ..core.config import Settings
from .base import COLUMNS, DatabaseUnavailable, Row, Turns

ITEM_BY_ID = f"SELECT {COLUMNS} FROM item WHERE id = ?"  # noqa: S608
ITEM_PAGE = f"SELECT {COLUMNS} FROM item ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608
# The file cannot be opened or stays locked: the handlers answer 503.
UNAVAILABLE = (sqlite3.OperationalError, OSError, TimeoutError)


class ItemReader:
    """Up to `size` read-only connections, each a thread in aiosqlite, opened on demand."""

    def __init__(self, path: str, size: int, settings: Settings) -> None:
        self.path = path
        self.busy_timeout = settings.database_busy_timeout_ms / 1000
        self.turns = Turns(size, settings.database_pool_timeout)
        self.idle: list[aiosqlite.Connection] = []

    async def item(self, item_id: int) -> Row | None:
        rows = await self.fetch_all(ITEM_BY_ID, (item_id,))
        return rows[0] if rows else None

    async def page(self, limit: int, offset: int) -> Sequence[Row]:
        return await self.fetch_all(ITEM_PAGE, (limit, offset))

    async def fetch_all(self, statement: str, parameters: tuple[int, ...]) -> list[Row]:
        """One trip to the connection's thread and back: execute, fetch and close the
        cursor there (`execute` then `fetchone` would be three, each a thread wake-up)."""
        async with self.turns:
            connection = self.idle.pop() if self.idle else await self.open()
            try:
                return list(await connection.execute_fetchall(statement, parameters))
            except UNAVAILABLE as error:
                raise DatabaseUnavailable from error
            finally:
                self.idle.append(connection)

    async def open(self) -> aiosqlite.Connection:
        try:
            connection = await aiosqlite.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=self.busy_timeout
            )
        except UNAVAILABLE as error:
            raise DatabaseUnavailable from error
        connection.row_factory = sqlite3.Row
        return connection

    async def close(self) -> None:
        while self.idle:
            await self.idle.pop().close()


@asynccontextmanager
async def open_item_reader(settings: Settings) -> AsyncIterator[ItemReader]:
    path = make_url(settings.database_url).database or ""
    reader = ItemReader(path, settings.database_read_pool_size, settings)
    try:
        yield reader
    finally:
        await reader.close()
