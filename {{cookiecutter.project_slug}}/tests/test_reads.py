"""The driver-level read path (`reads/`) against committed rows, as production runs it."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.__package_name }}.reads.base import DatabaseUnavailable, Turns

from tests.conftest import ClientFactory

ITEMS = "/api/v1/items"


@pytest.fixture
async def committed(client_for: ClientFactory) -> AsyncIterator[AsyncClient]:
    """Two read connections at most, so that the third concurrent read has to wait."""
    async with client_for(database_read_pool_size=2) as client:
        yield client


async def test_items_read_by_id_and_by_page_are_what_was_written(
    committed: AsyncClient,
) -> None:
    created: list[dict[str, Any]] = []
    try:
        for n in range(3):
            body = {"name": f"read {n}", "price": "1.50", "description": None}
            response = await committed.post(ITEMS, json=body)
            created.append(response.json())
        ids = [item["id"] for item in created]
        by_id = await asyncio.gather(*(committed.get(f"{ITEMS}/{item_id}") for item_id in ids * 4))
        page = (await committed.get(ITEMS, params={"limit": 100})).json()
    finally:
        for item in created:
            await committed.delete(f"{ITEMS}/{item['id']}")

    assert [response.json() for response in by_id] == created * 4
    assert [item for item in page if item["id"] in ids] == created
    assert created[0]["price"] == "1.50"
    assert (await committed.get(f"{ITEMS}/{ids[0]}")).status_code == 404


async def test_reads_are_served_before_the_engine_is_built(client_for: ClientFactory) -> None:
    """A new worker answers reads without SQLAlchemy's engine; `/ready` builds it, so an
    orchestrator's first probe does before traffic comes."""
    apps: list[FastAPI] = []
    async with client_for(extend=apps.append) as client:
        database = apps[0].state.database
        reads = [await client.get(f"{ITEMS}/1"), await client.get(ITEMS)]
        built_by_reads = database.engine_built
        ready = await client.get("/ready")

    assert [response.status_code for response in reads] in ([200, 200], [404, 200])
    assert not built_by_reads
    assert ready.status_code == 200
    assert database.engine_built


async def test_reads_waiting_for_a_connection_are_served_in_the_order_they_came() -> None:
    """A read that comes back at once (the next request on a kept-alive connection)
    must not take the connection from those already waiting for it."""
    turns = Turns(1, timeout=5)
    served: list[str] = []
    others_waiting = asyncio.Event()

    async def read(name: str, hold_until: asyncio.Event | None = None) -> None:
        async with turns:
            served.append(name)
            if hold_until is not None:
                await hold_until.wait()
            await asyncio.sleep(0)  # the query

    async def read_twice() -> None:
        await read("first", hold_until=others_waiting)
        await read("first, again")

    first = asyncio.create_task(read_twice())
    waiting = [asyncio.create_task(read(f"waiting {n}")) for n in range(3)]
    await asyncio.sleep(0)
    others_waiting.set()
    await asyncio.gather(first, *waiting)

    assert served == ["first", "waiting 0", "waiting 1", "waiting 2", "first, again"]


async def test_a_read_that_waits_too_long_for_a_connection_is_a_503_not_a_hang() -> None:
    turns = Turns(1, timeout=0.05)
    async with turns:
        with pytest.raises(DatabaseUnavailable):
            async with turns:
                pass


async def take_turn(turns: Turns, served: list[str], name: str) -> None:
    """A read that notes when its turn came."""
    async with turns:
        served.append(name)


async def test_reads_that_waited_too_long_leave_the_line_to_those_after_them() -> None:
    turns = Turns(1, timeout=0.05)
    async with turns:
        late = await asyncio.gather(*(turns.__aenter__() for _ in range(3)), return_exceptions=True)
    async with asyncio.timeout(1), turns:
        pass

    assert [type(error) for error in late] == [DatabaseUnavailable] * 3


async def test_a_read_cancelled_while_it_waits_takes_no_turn_with_it() -> None:
    """The client hung up while its read waited for a connection."""
    turns = Turns(1, timeout=5)
    served: list[str] = []

    async with turns:
        gone = asyncio.create_task(take_turn(turns, served, "gone"))
        after = asyncio.create_task(take_turn(turns, served, "after"))
        await asyncio.sleep(0)
        gone.cancel()
    async with asyncio.timeout(1):
        await asyncio.gather(gone, after, return_exceptions=True)
        await take_turn(turns, served, "later")

    assert served == ["after", "later"]


async def test_a_read_cancelled_just_as_its_turn_came_passes_the_turn_on() -> None:
    turns = Turns(1, timeout=5)
    served: list[str] = []

    await turns.__aenter__()
    first = asyncio.create_task(take_turn(turns, served, "first"))
    second = asyncio.create_task(take_turn(turns, served, "second"))
    await asyncio.sleep(0)
    await turns.__aexit__()  # the turn is now first's, which has not run yet
    first.cancel()
    async with asyncio.timeout(1):
        await asyncio.gather(first, second, return_exceptions=True)

    assert first.cancelled()
    assert served == ["second"]
