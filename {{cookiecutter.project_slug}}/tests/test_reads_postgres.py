"""The PostgreSQL read connections: what happens to them between and during reads."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.__package_name }}.reads import ItemReader

from tests.conftest import ClientFactory, create_item

ITEMS = "/api/v1/items"


@pytest.fixture
async def served(client_for: ClientFactory) -> AsyncIterator[tuple[AsyncClient, ItemReader]]:
    """A client of an app on committed rows, that app's reader, and one item to read."""
    apps: list[FastAPI] = []
    async with client_for(apps.append, database_read_pool_size=1) as client:
        item = await create_item(client)
        try:
            yield client, apps[0].state.item_reader
        finally:
            await client.delete(f"{ITEMS}/{item['id']}")


async def test_a_connection_the_server_closed_while_idle_is_not_used_again(
    served: tuple[AsyncClient, ItemReader],
) -> None:
    client, reader = served
    assert (await client.get(ITEMS)).status_code == 200
    [idle] = reader.idle
    closed = asyncio.Event()
    idle.add_termination_listener(lambda _connection: closed.set())
    admin = await asyncpg.connect(reader.dsn)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", idle.get_server_pid())
    finally:
        await admin.close()
    async with asyncio.timeout(5):
        await closed.wait()

    assert (await client.get(ITEMS)).status_code == 200


async def test_a_read_cancelled_mid_query_does_not_leave_its_connection_to_the_next(
    served: tuple[AsyncClient, ItemReader],
) -> None:
    """The connection is still busy with the query: the next read must not get it."""
    client, reader = served
    slow = asyncio.create_task(
        reader.run(lambda connection: connection.fetchval("SELECT pg_sleep(5)"))
    )
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow

    async with asyncio.timeout(3):
        response = await client.get(ITEMS)

    assert response.status_code == 200
    assert all(not connection.is_closed() for connection in reader.idle)
