"""Many clients at once, against real commits: no lost write, no 5xx, conflicts are 409s."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.api.routes.test_items import new_item

pytestmark = pytest.mark.heavy

ITEMS = "/api/v1/items"
CATEGORIES = "/api/v1/categories"


async def test_concurrent_creates_all_land(client: AsyncClient) -> None:
    responses = await asyncio.gather(
        *(client.post(ITEMS, json={"name": f"burst {n}", "price": n + 1}) for n in range(40))
    )

    assert [response.status_code for response in responses] == [201] * 40
    created = [response.json() for response in responses]
    assert len({item["id"] for item in created}) == 40
    for item in created:
        assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item


async def test_concurrent_updates_of_one_row_lose_no_field(client: AsyncClient) -> None:
    item = await new_item(client, name="start")
    url = f"{ITEMS}/{item['id']}"
    changes: list[dict[str, Any]] = [
        change
        for n in range(10)
        for change in ({"name": f"name {n}"}, {"price": 100 + n}, {"description": f"text {n}"})
    ]

    responses = await asyncio.gather(*(client.patch(url, json=change) for change in changes))
    final = (await client.get(url)).json()

    assert [response.status_code for response in responses] == [200] * len(changes)
    # Each field holds one of the values written to it: no update overwrote another's field.
    assert final["name"] in {change["name"] for change in changes if "name" in change}
    assert final["price"] in {f"{c['price']}.00" for c in changes if "price" in c}
    assert final["description"] in {c["description"] for c in changes if "description" in c}


async def test_a_unique_clash_under_concurrency_is_one_201_and_the_rest_409(
    client: AsyncClient,
) -> None:
    # Names that differ only in case are one name.
    names = [name for _ in range(10) for name in ("contested", "CONTESTED")]

    responses = await asyncio.gather(*(client.post(CATEGORIES, json={"name": n}) for n in names))

    assert sorted(response.status_code for response in responses) == [201] + [409] * 19
    assert len((await client.get(CATEGORIES)).json()) == 1


async def test_updates_racing_a_delete_get_200_or_404_never_a_500(client: AsyncClient) -> None:
    for round_ in range(5):
        item = await new_item(client, name=f"doomed {round_}")
        url = f"{ITEMS}/{item['id']}"
        responses = await asyncio.gather(
            *(client.patch(url, json={"name": f"edit {n}"}) for n in range(10)),
            client.delete(url),
            *(client.patch(url, json={"price": n + 1}) for n in range(10)),
        )
        statuses = [response.status_code for response in responses]
        assert set(statuses) <= {200, 204, 404}, statuses
        assert statuses.count(204) == 1
        assert (await client.get(url)).status_code == 404


async def test_of_two_racing_deletes_one_wins_and_the_other_is_404(client: AsyncClient) -> None:
    for round_ in range(5):
        item = await new_item(client, name=f"twice {round_}")
        url = f"{ITEMS}/{item['id']}"

        first, second = await asyncio.gather(client.delete(url), client.delete(url))

        assert sorted([first.status_code, second.status_code]) == [204, 404]
