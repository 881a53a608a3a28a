"""The async engine and sessions: one pool per process, built when first needed."""

from functools import cached_property

{% if cookiecutter.database == "sqlite" %}
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
{% endif %}
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
{% if cookiecutter.database == "sqlite" %}
from sqlalchemy.pool import ConnectionPoolEntry
{% endif %}
from sqlmodel.ext.asyncio.session import AsyncSession

from .config import Settings
{% if cookiecutter.database == "sqlite" %}

# Execution option for transactions that will write (see `api.deps.get_session`).
IMMEDIATE = "sqlite_begin_immediate"
{% endif %}


def create_engine(settings: Settings) -> AsyncEngine:
    """A fixed pool of connections, sized and bounded by settings.

    No overflow: connections opened and closed under every burst cost more than
    waiting a moment for a pooled one, and the pool size is the connection budget.
    """
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=settings.database_pool_timeout,
        echo=settings.database_echo,
{% if cookiecutter.database == "postgres" %}
        connect_args={
            "timeout": settings.database_connect_timeout,
            "command_timeout": settings.database_statement_timeout,
        },
        # No pre-ping: it costs a round trip per checkout. A connection found dead is
        # invalidated with the whole pool, so after an outage the pool refills itself.
        pool_recycle=1800,
{% endif %}
    )
{% if cookiecutter.database == "sqlite" %}
    configure_sqlite(engine.sync_engine, settings.database_busy_timeout_ms)
{% endif %}
    return engine
{% if cookiecutter.database == "sqlite" %}


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys and a busy timeout on every connection; writers queue.

    For the app's engine (its `sync_engine`) and for any synchronous one.
    """

    @event.listens_for(engine, "connect")
    def configure_connection(connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN: this makes SAVEPOINT work.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin_transaction(connection: Connection) -> None:
        # BEGIN IMMEDIATE takes the write lock up front: writers then queue on the busy
        # timeout instead of failing when a transaction that has read starts to write.
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # single-statement reads need no transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")
{% endif %}


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit, so handlers can return them without a reload.
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class Database:
    """The engine and its sessions, built on first use and disposed of in the lifespan.

    Item reads go through `reads` and never touch the engine, so a new worker serves
    them before SQLAlchemy has imported its dialect and built the engine, a tenth of a
    bare FastAPI app's whole start. Writes and `/ready` build it: an orchestrator's
    first readiness probe does so before any traffic arrives.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> AsyncEngine:
        return create_engine(self.settings)

    @cached_property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Read-write sessions."""
        return create_sessionmaker(self.engine)

    @cached_property
    def reader_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions in autocommit, for single reads: no BEGIN and ROLLBACK around a SELECT."""
        return create_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    @property
    def engine_built(self) -> bool:
        return "engine" in self.__dict__

    async def dispose(self) -> None:
        if self.engine_built:
            await self.engine.dispose()
