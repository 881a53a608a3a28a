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

    engine = app.state.engine.sync_engine
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


async def test_list_embeds_items_in_two_queries_however_many_categories(
    app: FastAPI, client: AsyncClient
) -> None:
    for n in range(4):
        category = (await client.post(CATEGORIES, json={"name": f"category {n}"})).json()
        for m in range(3):
            item = {"name": f"item {n}.{m}", "price": 1, "category_id": category["id"]}
            assert (await client.post("/api/v1/items", json=item)).status_code == 201

    with count_selects(app) as selects:
        categories = (await client.get(CATEGORIES)).json()

    assert [len(category["items"]) for category in categories] == [3, 3, 3, 3]
    assert categories[0]["items"][0]["name"] == "item 0.0"
    # One query for the categories, one for all their items: no N+1.
    assert len(selects) == 2, selects
