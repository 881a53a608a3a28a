"""The driver-level read path (`reads.py`) against committed rows, as production runs it."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient

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
