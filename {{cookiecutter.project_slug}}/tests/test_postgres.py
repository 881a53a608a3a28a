"""PostgreSQL: what the pool sends between two statements."""

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.__package_name }}.core.config import Settings

# The last statement of every other connection to this database that waits for work.
IDLE_CONNECTIONS = text(
    "SELECT query FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
)


async def test_a_released_connection_is_not_reset_by_a_second_round_trip(
    client: AsyncClient, settings: Settings
) -> None:
    """asyncpg's default reset (`RESET ALL`, `UNLISTEN *`, ...) would follow every statement;
    the service sets no session state, so its pool returns connections as they are."""
    response = await client.get("/api/v1/items")
    assert response.status_code == 200

    observer = create_async_engine(settings.database_url)
    try:
        async with observer.connect() as connection:
            last = (await connection.execute(IDLE_CONNECTIONS)).scalars().all()
    finally:
        await observer.dispose()

    assert any("FROM item" in query for query in last), last
    assert not [query for query in last if "RESET ALL" in query or "UNLISTEN" in query]
