"""SQLite through aiosqlite: a reading and a writing connection per worker process.

Each aiosqlite connection is a thread that runs its statements one after the
other, so two suffice: reads never wait behind a write that waits for the file's
lock (WAL lets them read while another process writes), and this process's
writes queue on their connection instead of contending for the lock. A
statement is one trip to the connection's thread and back: executed, fetched
and closed there.
"""

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, cast

import aiosqlite
from sqlalchemy import select
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import make_url

from ..core.config import Settings
from .errors import Constraint, ConstraintViolated, DatabaseUnavailable
from .statement import Compiled, Row, Statement

DIALECT = aiosqlite_dialect()
PING = Statement(select(1))
# The file cannot be opened, written or locked in time: a 503. Any other error (an
# unknown column, a syntax error) is a bug and stays a 500.
UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")
CONSTRAINTS: dict[str, Constraint] = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
}


# A client span around each statement (given its SQL), once `trace_statements` ran.
statement_span: Callable[[str], AbstractContextManager[object]] | None = None


def trace_statements() -> None:
    """A client span per statement, named after its operation as the semantic conventions
    ask (no maintained package instruments aiosqlite). Called by `tracing` when traces
    are on."""
    from opentelemetry import trace

    global statement_span
    tracer = trace.get_tracer(__name__)

    def span(sql: str) -> AbstractContextManager[object]:
        operation = sql.split(None, 1)[0].upper()
        attributes = {"db.system.name": "sqlite", "db.query.text": sql}
        return tracer.start_as_current_span(
            operation, kind=trace.SpanKind.CLIENT, attributes=attributes
        )

    statement_span = span


class Database:
    dialect = DIALECT

    def __init__(self, reader: aiosqlite.Connection, writer: aiosqlite.Connection) -> None:
        self.reader = reader
        self.writer = writer

    async def fetch_one(self, query: Statement, /, **values: Any) -> Row | None:
        """The first row of `query` run with `values`, or None."""
        rows = await self.fetch_all(query, **values)
        return rows[0] if rows else None

    async def fetch_all(self, query: Statement, /, **values: Any) -> Sequence[Row]:
        compiled = query.compile(DIALECT, result_types=True)
        rows = await self.run(compiled, compiled.arguments(values))
        return [compiled.row(row) for row in rows]

    async def run(self, compiled: Compiled, arguments: tuple[Any, ...]) -> Sequence[Row]:
        if statement_span is None:
            return await self.execute(compiled, arguments)
        with statement_span(compiled.sql):
            return await self.execute(compiled, arguments)

    async def execute(self, compiled: Compiled, arguments: tuple[Any, ...]) -> Sequence[Row]:
        connection = self.writer if compiled.writes else self.reader
        try:
            # sqlite3's Row is a read-only mapping of column names to values.
            rows = cast(list[Row], await connection.execute_fetchall(compiled.sql, arguments))
        except sqlite3.IntegrityError as error:
            kind = CONSTRAINTS.get(error.sqlite_errorname)
            if kind is None:
                raise  # NOT NULL, CHECK: a bug, not the client's doing
            raise ConstraintViolated(kind, columns=constrained_columns(error)) from error
        except (sqlite3.OperationalError, ValueError) as error:
            if is_unavailable(error):
                raise DatabaseUnavailable(str(error)) from error
            raise
        return rows

    async def ping(self) -> None:
        await self.fetch_one(PING)


def is_unavailable(error: Exception) -> bool:
    if isinstance(error, ValueError):
        return True  # aiosqlite's "no active connection": closed under the request
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(UNAVAILABLE)


def constrained_columns(error: sqlite3.IntegrityError) -> tuple[str, ...]:
    """`("name_key",)` from "UNIQUE constraint failed: category.name_key"."""
    _, _, names = str(error).partition(": ")
    return tuple(name.rpartition(".")[2] for name in names.split(", ") if name)


async def connect(path: str, settings: Settings, *, read_only: bool) -> aiosqlite.Connection:
    target = f"file:{path}?mode=ro" if read_only else path
    try:
        # No implicit transactions (`isolation_level=None`): each statement commits on its own.
        connection = await aiosqlite.connect(
            target,
            uri=read_only,
            timeout=settings.database_busy_timeout_ms / 1000,
            isolation_level=None,
        )
    except sqlite3.OperationalError as error:
        raise DatabaseUnavailable(f"{error}: {path}") from error
    connection.row_factory = sqlite3.Row
    if not read_only:
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA foreign_keys=ON")
    return connection


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    path = make_url(settings.database_url).database or ""
    async with AsyncExitStack() as connections:
        writer = await connect(path, settings, read_only=False)
        connections.push_async_callback(writer.close)
        reader = await connect(path, settings, read_only=True)
        connections.push_async_callback(reader.close)
        yield Database(reader, writer)
