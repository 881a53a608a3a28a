import logging

import pytest
from httpx import AsyncClient

from {{ cookiecutter.__package_name }}.models import ItemRead

from tests.conftest import create_item

ITEMS = "/api/v1/items"


async def test_create_returns_the_stored_item(client: AsyncClient) -> None:
    item = await create_item(client, name="Lamp", price=20, description="Bright")

    assert item["id"] >= 1
    assert item == {
        "id": item["id"],
        "name": "Lamp",
        "price": "20.00",
        "description": "Bright",
        "category_id": None,
    }
    assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item


async def test_unknown_item_is_404(client: AsyncClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"{ITEMS}/999999", json={"name": "x"})
        assert response.status_code == 404, method
        assert response.json()["detail"] == "Item not found"


async def test_list_pages_in_id_order(client: AsyncClient) -> None:
    ids = [(await create_item(client, name=f"item {n}"))["id"] for n in range(5)]

    first_page = (await client.get(ITEMS, params={"limit": 2})).json()
    second_page = (await client.get(ITEMS, params={"limit": 2, "offset": 2})).json()

    assert [item["id"] for item in first_page + second_page] == ids[:4]


async def test_list_limit_is_bounded(client: AsyncClient) -> None:
    assert (await client.get(ITEMS, params={"limit": 0})).status_code == 422
    assert (await client.get(ITEMS, params={"limit": 100_000})).status_code == 422
    assert (await client.get(ITEMS, params={"offset": -1})).status_code == 422


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    item = await create_item(client, name="Old", description="kept")

    response = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "New"})

    assert response.status_code == 200
    assert response.json() == {**item, "name": "New"}
    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["name"] == "New"


async def test_delete_removes_the_item(client: AsyncClient) -> None:
    item = await create_item(client)

    response = await client.delete(f"{ITEMS}/{item['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 404


async def test_invalid_input_is_422_with_the_field_named(client: AsyncClient) -> None:
    cases = [
        ({"name": "x", "price": 0}, ["body", "price"]),
        ({"name": "", "price": 1}, ["body", "name"]),
        ({"price": 1}, ["body", "name"]),
        ({"name": "x", "price": "cheap"}, ["body", "price"]),
        ({"name": "nul\u0000byte", "price": 1}, ["body", "name"]),
    ]
    for payload, location in cases:
        response = await client.post(ITEMS, json=payload)
        assert response.status_code == 422, payload
        assert [error["loc"] for error in response.json()["detail"]] == [location]


async def test_out_of_range_ids_are_422_not_a_database_error(client: AsyncClient) -> None:
    for item_id in ("0", str(2**63), "abc"):
        assert (await client.get(f"{ITEMS}/{item_id}")).status_code == 422, item_id


async def test_unknown_category_is_409(client: AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": "x", "price": 1, "category_id": 424242})

    assert response.status_code == 409
    assert response.json()["detail"] == "The category does not exist"


async def test_creation_is_announced_in_the_background(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="{{ cookiecutter.__package_name }}.notifications"):
        item = await create_item(client, name="Announced")

    assert f"Item {item['id']} created: Announced" in caplog.messages


@pytest.mark.parametrize("field", ["name", "price"])
async def test_patch_refuses_null_for_a_required_field(client: AsyncClient, field: str) -> None:
    item = await create_item(client)

    response = await client.patch(f"{ITEMS}/{item['id']}", json={field: None})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item


async def test_patch_with_null_clears_an_optional_field(client: AsyncClient) -> None:
    item = await create_item(client, description="to clear")

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


async def test_every_field_survives_the_round_trip(client: AsyncClient) -> None:
    """A field added to the model (and its migration) is written and read everywhere."""
    category = (await client.post("/api/v1/categories", json={"name": "Round trip"})).json()
    created = await create_item(client, description="all set", category_id=category["id"])
    listed = (await client.get(ITEMS, params={"limit": 100})).json()

    assert set(created) == set(ItemRead.model_fields)
    assert (await client.get(f"{ITEMS}/{created['id']}")).json() == created
    assert next(item for item in listed if item["id"] == created["id"]) == created
    patched = (await client.patch(f"{ITEMS}/{created['id']}", json={})).json()
    assert patched == created


async def test_money_is_exact(client: AsyncClient) -> None:
    item = await create_item(client, price="0.10")
    patched = await client.patch(f"{ITEMS}/{item['id']}", json={"price": 0.2})

    assert item["price"] == "0.10"
    assert patched.json()["price"] == "0.20"
    assert (await client.post(ITEMS, json={"name": "x", "price": "0.001"})).status_code == 422


async def test_a_blank_name_or_an_unknown_field_is_422(client: AsyncClient) -> None:
    item = await create_item(client)
    for body in ({"name": "   ", "price": 1}, {"name": "x", "price": 1, "colour": "red"}):
        assert (await client.post(ITEMS, json=body)).status_code == 422, body
    for change in ({"name": " "}, {"nmae": "typo"}):
        assert (await client.patch(f"{ITEMS}/{item['id']}", json=change)).status_code == 422


async def test_ids_are_never_reused_after_a_delete(client: AsyncClient) -> None:
    first = await create_item(client)
    assert (await client.delete(f"{ITEMS}/{first['id']}")).status_code == 204

    second = await create_item(client)

    assert second["id"] > first["id"]
