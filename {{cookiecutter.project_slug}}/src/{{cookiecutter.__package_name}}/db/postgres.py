"""PostgreSQL through asyncpg's own pool: one per worker process, for every statement.

A statement is one round trip on a pooled connection; asyncpg prepares it once
per connection and reuses it. Nothing else stands between a route and the
driver: no ORM session, no per-request transaction (each statement commits on
its own, and a write's `RETURNING` says what it did).
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from sqlalchemy import select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url

from ..core.config import Settings
from .errors import Constraint, ConstraintViolated, DatabaseUnavailable
from .statement import Compiled, Row, Statement

DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
PING = Statement(select(1))
# The server cannot be reached, refuses connections, is shutting down or timed out:
# a 503. Anything else (an unknown column, a syntax error) is a bug and stays a 500.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.OperatorInterventionError,
)
CONSTRAINTS: dict[type[asyncpg.PostgresError], Constraint] = {
    asyncpg.UniqueViolationError: "unique",
    asyncpg.ForeignKeyViolationError: "foreign_key",
}


def trace_statements() -> None:
    """A client span per statement, from asyncpg's maintained instrumentation. Called by
    `tracing` when traces are on."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().instrument()


class Database:
    """Statements on a pool of `DATABASE_POOL_SIZE` connections, opened as needed."""

    dialect = DIALECT

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout

    async def fetch_one(self, query: Statement, /, **values: Any) -> Row | None:
        """The first row of `query` run with `values`, or None."""
        compiled = query.compile(DIALECT, result_types=False)
        rows = await self.run(compiled, compiled.arguments(values), limit=1)
        return rows[0] if rows else None

    async def fetch_all(self, query: Statement, /, **values: Any) -> Sequence[Row]:
        compiled = query.compile(DIALECT, result_types=False)
        return await self.run(compiled, compiled.arguments(values))

    async def run(
        self, compiled: Compiled, arguments: tuple[Any, ...], limit: int | None = None
    ) -> Sequence[Row]:
        try:
            async with asyncio.timeout(self.acquire_timeout):
                connection = await self.pool.acquire()
            try:
                # asyncpg's Record is a read-only mapping of column names to values.
                if limit == 1:
                    row = await connection.fetchrow(compiled.sql, *arguments)
                    return [] if row is None else [cast(Row, row)]
                return cast(list[Row], await connection.fetch(compiled.sql, *arguments))
            except TimeoutError:
                # Cancelling the statement would wait on the server that did not answer in
                # time; the connection is closed instead (the server's own statement_timeout
                # stops the statement there).
                connection.terminate()
                raise
            finally:
                await self.pool.release(connection)
        except asyncpg.IntegrityConstraintViolationError as error:
            kind = next((k for cls, k in CONSTRAINTS.items() if isinstance(error, cls)), None)
            if kind is None:
                raise  # NOT NULL, CHECK: a bug, not the client's doing
            raise ConstraintViolated(kind, constraint=error.constraint_name) from error
        except UNAVAILABLE as error:
            raise DatabaseUnavailable(str(error) or type(error).__name__) from error

    async def ping(self) -> None:
        await self.fetch_one(PING)


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a connection needs before the next statement takes it: nothing more than
    asyncpg always does (roll back an open transaction). The service sets no session
    state (no SET, LISTEN, cursor or advisory lock), so asyncpg's default reset, a
    second round trip after every statement, would undo nothing."""


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The pool opens connections as requests need them, up to DATABASE_POOL_SIZE, so
    the service starts (and reports not ready) while the database is down."""
    url = make_url(settings.database_url).set(drivername="postgresql")
    pool = asyncpg.create_pool(
        url.render_as_string(hide_password=False),
        min_size=0,
        max_size=settings.database_pool_size,
        timeout=settings.database_connect_timeout,
        command_timeout=settings.database_statement_timeout,
        server_settings={"statement_timeout": f"{settings.database_statement_timeout:g}s"},
        reset=keep_session,
    )
    await pool
    try:
        yield Database(pool, settings.database_pool_timeout)
    finally:
        await pool.close()
