"""Items: the resource contract, and what is particular to items."""

import logging
from typing import Any, ClassVar

import pytest
from httpx import AsyncClient

from tests.conftest import created
from tests.resource_contract import ResourceContract

ITEMS = "/api/v1/items"


async def new_item(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    """A stored item (a valid one unless `fields` say otherwise)."""
    return await created(client, ITEMS, {"name": "Widget", "price": "9.50", **fields})


class TestItems(ResourceContract):
    path = ITEMS
    label = "Item"
    invalid: ClassVar[dict[str, Any]] = {
        "name": " padded ",
        "description": "nul\u0000byte",
        "price": 9.5,
        "category_id": "1",
    }

    async def valid(self, client: AsyncClient) -> dict[str, Any]:
        return {"name": "Lamp", "description": "Bright", "price": "20.00"}

    async def change(self, client: AsyncClient) -> dict[str, Any]:
        return {"name": "Brighter lamp"}


async def test_an_item_is_stored_as_sent(client: AsyncClient) -> None:
    item = await new_item(client, name="Lamp", price=20, description="Bright")

    assert item == {
        "id": item["id"],
        "name": "Lamp",
        "price": "20.00",
        "description": "Bright",
        "category_id": None,
    }


async def test_an_unknown_category_is_409(client: AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": "x", "price": 1, "category_id": 424242})

    assert response.status_code == 409
    assert response.json()["detail"] == "The category does not exist"


async def test_creation_is_announced_in_the_background(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="{{ cookiecutter.__package_name }}.notifications"):
        item = await new_item(client, name="Announced")

    assert f"Item {item['id']} created: Announced" in caplog.messages


@pytest.mark.parametrize("field", ["name", "price"])
async def test_patch_refuses_null_for_a_required_field(client: AsyncClient, field: str) -> None:
    item = await new_item(client)

    response = await client.patch(f"{ITEMS}/{item['id']}", json={field: None})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item


async def test_patch_with_null_clears_an_optional_field(client: AsyncClient) -> None:
    item = await new_item(client, description="to clear")

    response = await client.patch(f"{ITEMS}/{item['id']}", json={"description": None})

    assert response.status_code == 200
    assert response.json() == {**item, "description": None}


async def test_the_documented_page_size_maximum_is_the_one_enforced(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    limit = next(
        parameter
        for parameter in schema["paths"][ITEMS]["get"]["parameters"]
        if parameter["name"] == "limit"
    )
    maximum = limit["schema"]["maximum"]

    assert (await client.get(ITEMS, params={"limit": maximum})).status_code == 200
    assert (await client.get(ITEMS, params={"limit": maximum + 1})).status_code == 422


@pytest.mark.parametrize("price", ["0.10", 7, "1000000000"])
async def test_money_is_exact(client: AsyncClient, price: Any) -> None:
    item = await new_item(client, price=price)

    assert item["price"] == f"{float(price):.2f}"


@pytest.mark.parametrize(
    "price",
    [0.2, 7.5, "0.001", "0", "1E+2", " 5 ", "1_000", "\u0663", True, "1000000000.01", 10**1000],
)
async def test_money_in_any_other_form_is_422(client: AsyncClient, price: Any) -> None:
    response = await client.post(ITEMS, json={"name": "x", "price": price})

    assert response.status_code == 422, response.text


@pytest.mark.parametrize("category_id", [True, "1", 1.5])
async def test_a_category_id_is_a_json_integer(client: AsyncClient, category_id: Any) -> None:
    response = await client.post(ITEMS, json={"name": "x", "price": 1, "category_id": category_id})

    assert response.status_code == 422, response.text


async def test_numbers_with_a_zero_fraction_are_integers_as_json_schema_says(
    client: AsyncClient,
) -> None:
    category = await created(client, "/api/v1/categories", {"name": "Whole"})

    item = await new_item(client, price=7.0, category_id=float(category["id"]))

    assert (item["price"], item["category_id"]) == ("7.00", category["id"])
