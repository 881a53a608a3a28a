"""The hot read path: items by id and by page, straight through the database driver.

Reads are most of the traffic and the simplest queries, so they skip every layer
that does not change the answer: no SQLAlchemy session, identity map or statement
compilation, and no validation of rows the database has already constrained
(`items.py` serialises them to the response's bytes once). Each read is one
statement, prepared once per connection by the driver, on a small pool of its
own. Writes, and reads that need relations, go through SQLAlchemy (see `crud`).
The columns come from `ItemRead`, so a field added to the model is read here too.
"""

import asyncio
{% if cookiecutter.database == "postgres" %}
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
{% else %}
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url
{% endif %}

from .core.config import Settings
from .models import ItemRead

# A row as the driver returns it, read by column name.
Row = Any
# Built from the model's field names, never from input: nothing here can be injected.
COLUMNS = ", ".join(ItemRead.model_fields)
{% if cookiecutter.database == "postgres" %}
ITEM_BY_ID = f"SELECT {COLUMNS} FROM item WHERE id = $1"  # noqa: S608
ITEM_PAGE = f"SELECT {COLUMNS} FROM item ORDER BY id LIMIT $1 OFFSET $2"  # noqa: S608
# The server is out of reach: the handlers answer 503, as for SQLAlchemy's errors.
UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)
{% else %}
ITEM_BY_ID = f"SELECT {COLUMNS} FROM item WHERE id = ?"  # noqa: S608
ITEM_PAGE = f"SELECT {COLUMNS} FROM item ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608
# The file cannot be opened or stays locked: the handlers answer 503.
UNAVAILABLE = (sqlite3.OperationalError, OSError, TimeoutError)
{% endif %}


class DatabaseUnavailable(Exception):
    """A read could not reach the database; `api.errors` answers 503."""


class Turns:
    """At most `size` reads at once; the others wait in the order they came.

    A pool's own waiting line is an `asyncio.Queue`, which is not fair: a read that
    arrives just as a connection comes back takes it from the one woken to take it,
    and that one goes to the back of the line again. Under load a few reads waited
    behind hundreds of others (p99 ten times p50 at 64 connections). A semaphore
    serves waiters first come, first served, and the pool never has to make anyone wait.
    """

    def __init__(self, size: int, timeout: float) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.timeout = timeout

    async def __aenter__(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.semaphore.acquire()
        except TimeoutError as error:
            raise DatabaseUnavailable from error

    async def __aexit__(self, *_exc_info: object) -> None:
        self.semaphore.release()


{% if cookiecutter.database == "postgres" %}
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
{% else %}
class ItemReader:
    """Up to `size` read-only connections, each a thread in aiosqlite, opened on demand."""

    def __init__(self, path: str, size: int, settings: Settings) -> None:
        self.path = path
        self.busy_timeout = settings.database_busy_timeout_ms / 1000
        self.turns = Turns(size, settings.database_pool_timeout)
        self.idle: list[aiosqlite.Connection] = []

    async def item(self, item_id: int) -> Row | None:
        async with (
            self.connection() as connection,
            connection.execute(ITEM_BY_ID, (item_id,)) as cursor,
        ):
            row: Row | None = await cursor.fetchone()
        return row

    async def page(self, limit: int, offset: int) -> Sequence[Row]:
        async with (
            self.connection() as connection,
            connection.execute(ITEM_PAGE, (limit, offset)) as cursor,
        ):
            rows: Sequence[Row] = list(await cursor.fetchall())
        return rows

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self.turns:
            connection = self.idle.pop() if self.idle else await self.open()
            try:
                yield connection
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
{% endif %}
