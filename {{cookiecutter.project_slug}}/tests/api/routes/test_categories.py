from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event

CATEGORIES = "/api/v1/categories"


@contextmanager
def count_selects(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_duplicate_name_is_409(client: AsyncClient) -> None:
    assert (await client.post(CATEGORIES, json={"name": "Tools"})).status_code == 201

    response = await client.post(CATEGORIES, json={"name": "Tools"})

    assert response.status_code == 409
    assert response.json()["detail"] == "A category with this name exists"


async def test_names_are_unique_whatever_their_case(client: AsyncClient) -> None:
    assert (await client.post(CATEGORIES, json={"name": "Straße"})).status_code == 201

    for clash in ("straße", "STRASSE"):
        response = await client.post(CATEGORIES, json={"name": clash})
        assert response.status_code == 409, clash
        assert response.json()["detail"] == "A category with this name exists"


async def test_a_blank_name_or_an_unknown_field_is_422(client: AsyncClient) -> None:
    for body in ({"name": "   "}, {"name": " Tools"}, {"name": "Tools", "colour": "red"}):
        assert (await client.post(CATEGORIES, json=body)).status_code == 422, body


async def test_list_counts_items_in_one_query_however_many_categories(
    app: FastAPI, client: AsyncClient
) -> None:
    ids = []
    for n in range(4):
        category = (await client.post(CATEGORIES, json={"name": f"category {n}"})).json()
        ids.append(category["id"])
        for m in range(n):
            item = {"name": f"item {n}.{m}", "price": 1, "category_id": category["id"]}
            assert (await client.post("/api/v1/items", json=item)).status_code == 201

    with count_selects(app) as selects:
        categories = (await client.get(CATEGORIES)).json()

    counts = {category["id"]: category["item_count"] for category in categories}
    assert [counts[category_id] for category_id in ids] == [0, 1, 2, 3]
    # One query counts every category's items: no N+1.
    assert len(selects) == 1, selects


async def test_a_category_is_read_with_a_bounded_page_of_its_items(client: AsyncClient) -> None:
    category = (await client.post(CATEGORIES, json={"name": "Paged"})).json()
    for n in range(5):
        item = {"name": f"item {n}", "price": 1, "category_id": category["id"]}
        assert (await client.post("/api/v1/items", json=item)).status_code == 201

    response = await client.get(f"{CATEGORIES}/{category['id']}", params={"items_limit": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Paged"
    assert [item["name"] for item in body["items"]] == ["item 0", "item 1"]


async def test_a_category_is_renamed_and_deleted(client: AsyncClient) -> None:
    category = (await client.post(CATEGORIES, json={"name": "Old name"})).json()
    url = f"{CATEGORIES}/{category['id']}"

    renamed = await client.patch(url, json={"name": "New name"})
    deleted = await client.delete(url)

    assert renamed.status_code == 200
    assert renamed.json() == {"id": category["id"], "name": "New name"}
    assert deleted.status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_a_category_with_items_is_not_deleted(client: AsyncClient) -> None:
    category = (await client.post(CATEGORIES, json={"name": "Busy"})).json()
    item = {"name": "kept", "price": 1, "category_id": category["id"]}
    assert (await client.post("/api/v1/items", json=item)).status_code == 201

    response = await client.delete(f"{CATEGORIES}/{category['id']}")

    assert response.status_code == 409
    assert response.json()["detail"] == "The category still has items"


async def test_unknown_category_is_404(client: AsyncClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"{CATEGORIES}/999999", json={"name": "x"})
        assert response.status_code == 404, method
        assert response.json()["detail"] == "Category not found"


async def test_ids_are_never_reused_after_a_delete(client: AsyncClient) -> None:
    first = (await client.post(CATEGORIES, json={"name": "First"})).json()
    assert (await client.delete(f"{CATEGORIES}/{first['id']}")).status_code == 204

    second = (await client.post(CATEGORIES, json={"name": "Second"})).json()

    assert second["id"] > first["id"]
