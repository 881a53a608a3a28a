"""Categories: the resource contract, unique names, and reads of their items without N+1."""

from typing import Any, ClassVar
from uuid import uuid4

from fastapi import FastAPI
from httpx import AsyncClient

from tests.api.routes.test_items import new_item
from tests.conftest import created, services
from tests.resource_contract import ResourceContract, statements_run

CATEGORIES = "/api/v1/categories"


async def new_category(client: AsyncClient, name: str | None = None) -> dict[str, Any]:
    """A stored category, under a name of its own unless one is given."""
    return await created(client, CATEGORIES, {"name": name or f"Category {uuid4().hex[:8]}"})


class TestCategories(ResourceContract):
    path = CATEGORIES
    label = "Category"
    invalid: ClassVar[dict[str, Any]] = {"name": "   "}
    created_so_far = 0

    async def valid(self, client: AsyncClient) -> dict[str, Any]:
        # Names are unique: a new one each time.
        self.created_so_far += 1
        return {"name": f"Category {self.created_so_far}"}

    async def change(self, client: AsyncClient) -> dict[str, Any]:
        return {"name": "Renamed"}


async def test_a_taken_name_is_409(client: AsyncClient) -> None:
    await new_category(client, "Tools")

    response = await client.post(CATEGORIES, json={"name": "Tools"})

    assert response.status_code == 409
    assert response.json()["detail"] == "A category with this name exists"


async def test_names_are_unique_whatever_their_case(client: AsyncClient) -> None:
    await new_category(client, "Straße")
    other = await new_category(client, "Other")

    for clash in ("straße", "STRASSE"):
        response = await client.post(CATEGORIES, json={"name": clash})
        assert response.status_code == 409, clash
        assert response.json()["detail"] == "A category with this name exists"
        renamed = await client.patch(f"{CATEGORIES}/{other['id']}", json={"name": clash})
        assert renamed.status_code == 409, clash


async def test_a_name_with_space_around_it_is_422(client: AsyncClient) -> None:
    for body in ({"name": " Tools"}, {"name": "Tools\n"}):
        assert (await client.post(CATEGORIES, json=body)).status_code == 422, body


async def test_the_list_counts_items_in_one_query_however_many_categories(
    app: FastAPI, client: AsyncClient
) -> None:
    ids = []
    for n in range(4):
        category = await new_category(client, f"category {n}")
        ids.append(category["id"])
        for m in range(n):
            await new_item(client, name=f"item {n}.{m}", category_id=category["id"])

    with statements_run(services(app).store.database) as run:
        categories = (await client.get(CATEGORIES)).json()

    counts = {category["id"]: category["item_count"] for category in categories}
    assert [counts[category_id] for category_id in ids] == [0, 1, 2, 3]
    assert len(run) == 1, run


async def test_a_category_is_read_with_a_bounded_page_of_its_items_in_two_queries(
    app: FastAPI, client: AsyncClient
) -> None:
    category = await new_category(client, "Paged")
    for n in range(5):
        await new_item(client, name=f"item {n}", category_id=category["id"])

    with statements_run(services(app).store.database) as run:
        response = await client.get(f"{CATEGORIES}/{category['id']}", params={"items_limit": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Paged"
    assert [item["name"] for item in body["items"]] == ["item 0", "item 1"]
    assert len(run) == 2, run


async def test_item_writes_change_the_categories_reads(client: AsyncClient) -> None:
    category = await new_category(client, "Counted")
    url = f"{CATEGORIES}/{category['id']}"
    for _ in range(2):
        await client.get(url)
        await client.get(CATEGORIES)

    item = await new_item(client, category_id=category["id"])

    assert [entry["id"] for entry in (await client.get(url)).json()["items"]] == [item["id"]]
    assert (await client.get(CATEGORIES)).json()[0]["item_count"] == 1
    await client.patch(f"/api/v1/items/{item['id']}", json={"category_id": None})
    assert (await client.get(url)).json()["items"] == []


async def test_a_category_with_items_is_not_deleted(client: AsyncClient) -> None:
    category = await new_category(client, "Busy")
    await new_item(client, category_id=category["id"])

    response = await client.delete(f"{CATEGORIES}/{category['id']}")

    assert response.status_code == 409
    assert response.json()["detail"] == "The category is still referenced by items"
