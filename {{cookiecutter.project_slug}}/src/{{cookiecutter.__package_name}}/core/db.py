"""The async engine and sessions: one pool per process, opened in the lifespan."""

{% if cookiecutter.database == "sqlite" %}
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
{% else %}
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
{% endif %}
from sqlmodel.ext.asyncio.session import AsyncSession

from .config import Settings
{% if cookiecutter.database == "sqlite" %}

# Execution option for transactions that will write (see `api.deps.get_session`).
IMMEDIATE = "sqlite_begin_immediate"
{% endif %}


{% if cookiecutter.database == "postgres" %}
def create_engine(settings: Settings) -> AsyncEngine:
    """Pooled asyncpg connections, sized and bounded by settings."""
    return create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        # No pre-ping: it costs a round trip per checkout. A connection found dead is
        # invalidated with the whole pool, so after an outage the pool refills itself.
        pool_recycle=1800,
        echo=settings.database_echo,
    )
{% else %}
def create_engine(settings: Settings) -> AsyncEngine:
    """SQLite through aiosqlite, with WAL and foreign keys on every connection."""
    # A fixed pool: each aiosqlite connection is a thread, and opening one costs four
    # PRAGMAs; overflow connections would be opened and closed under every burst.
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=0,
        echo=settings.database_echo,
    )
    busy_timeout_ms = settings.database_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def configure_connection(connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN: this makes SAVEPOINT work.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin_transaction(connection: Connection) -> None:
        # BEGIN IMMEDIATE takes the write lock up front: writers then queue on the busy
        # timeout instead of failing when a transaction that has read starts to write.
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # single-statement reads need no transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")

    return engine
{% endif %}


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit, so handlers can return them without a reload.
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
