"""Alembic runs migrations through the same async driver as the service."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from {{ cookiecutter.__package_name }} import models  # noqa: F401  (registers the tables)
from {{ cookiecutter.__package_name }}.core.config import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def database_url() -> str:
    """An explicit `sqlalchemy.url` (tests set one) wins over the service's setting."""
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def configure(connection: Connection | None = None) -> None:
    context.configure(
        url=None if connection else database_url(),
        connection=connection,
        target_metadata=target_metadata,
{% if cookiecutter.database == "sqlite" %}
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=True,
{% endif %}
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations(connection: Connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    except (DBAPIError, OSError) as error:
        # One line that says what to fix, not a traceback through three libraries.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        where = make_url(database_url()).render_as_string(hide_password=True)
        # A driver that runs its connection in a thread stops that thread through the
        # event loop after a failed connect: let it, before the loop closes.
        await asyncio.sleep(0.1)
        raise SystemExit(
            f"Cannot migrate {where}: {reason}. Create the database or set DATABASE_URL."
        ) from None
    finally:
        await engine.dispose()


if context.is_offline_mode():
    configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
