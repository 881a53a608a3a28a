"""Many clients at once against real commits: no lost write, no 5xx, conflicts are 409."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete

from {{ cookiecutter.__package_name }}.models import Category

from tests.conftest import ClientFactory

pytestmark = pytest.mark.heavy

ITEMS = "/api/v1/items"


@pytest.fixture
async def committed(client_for: ClientFactory) -> AsyncIterator[AsyncClient]:
    async with client_for() as client:
        yield client


async def test_concurrent_creates_all_land(committed: AsyncClient) -> None:
    responses = await asyncio.gather(
        *(committed.post(ITEMS, json={"name": f"burst {n}", "price": n + 1}) for n in range(40))
    )
    created = [response.json() for response in responses if response.status_code == 201]
    try:
        assert [response.status_code for response in responses] == [201] * 40
        assert len({item["id"] for item in created}) == 40
        for item in created:
            assert (await committed.get(f"{ITEMS}/{item['id']}")).json() == item
    finally:
        for item in created:
            await committed.delete(f"{ITEMS}/{item['id']}")


async def test_concurrent_updates_of_one_row_lose_no_field(committed: AsyncClient) -> None:
    item = (await committed.post(ITEMS, json={"name": "start", "price": 1})).json()
    url = f"{ITEMS}/{item['id']}"
    changes: list[dict[str, Any]] = [
        change
        for n in range(10)
        for change in ({"name": f"name {n}"}, {"price": 100 + n}, {"description": f"text {n}"})
    ]
    try:
        responses = await asyncio.gather(*(committed.patch(url, json=change) for change in changes))
        final = (await committed.get(url)).json()
    finally:
        await committed.delete(url)

    assert [response.status_code for response in responses] == [200] * len(changes)
    # Each field holds one of the values written to it: no update overwrote another's field.
    assert final["name"] in {change["name"] for change in changes if "name" in change}
    assert final["price"] in {f"{c['price']}.00" for c in changes if "price" in c}
    assert final["description"] in {c["description"] for c in changes if "description" in c}


async def test_a_unique_clash_under_concurrency_is_one_201_and_the_rest_409(
    app: FastAPI, committed: AsyncClient
) -> None:
    responses = await asyncio.gather(
        *(committed.post("/api/v1/categories", json={"name": "contested"}) for _ in range(20))
    )
    try:
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * 19
    finally:
        async with app.state.database.engine.begin() as connection:
            await connection.execute(delete(Category).where(Category.name == "contested"))  # type: ignore[arg-type]


async def test_updates_racing_a_delete_get_200_or_404_never_a_500(committed: AsyncClient) -> None:
    for round_ in range(5):
        item = (await committed.post(ITEMS, json={"name": f"doomed {round_}", "price": 1})).json()
        url = f"{ITEMS}/{item['id']}"
        responses = await asyncio.gather(
            *(committed.patch(url, json={"name": f"edit {n}"}) for n in range(10)),
            committed.delete(url),
            *(committed.patch(url, json={"price": n + 1}) for n in range(10)),
        )
        statuses = [response.status_code for response in responses]
        assert set(statuses) <= {200, 204, 404}, statuses
        assert statuses.count(204) == 1
        assert (await committed.get(url)).status_code == 404


async def test_of_two_racing_deletes_one_wins_and_the_other_is_404(committed: AsyncClient) -> None:
    for round_ in range(5):
        item = (await committed.post(ITEMS, json={"name": f"twice {round_}", "price": 1})).json()
        url = f"{ITEMS}/{item['id']}"
        first, second = await asyncio.gather(committed.delete(url), committed.delete(url))

        assert sorted([first.status_code, second.status_code]) == [204, 404]
