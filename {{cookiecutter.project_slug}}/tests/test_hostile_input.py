"""Whatever a client sends, the answer is a uniform 4xx, never a 500.

JSON as Python parses it allows what JSON itself does not (NaN, Infinity, numbers
that overflow to infinity, lone surrogates); the errors that echo such input back
must still serialise.
"""

import pytest
from httpx import AsyncClient, Response

from tests.api.routes.test_items import new_item

ITEMS = "/api/v1/items"
CATEGORIES = "/api/v1/categories"
JSON = {"content-type": "application/json"}


def assert_uniform_422(response: Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["detail"], body


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309"])
async def test_a_price_that_is_not_a_finite_number_is_a_422(
    client: AsyncClient, number: str
) -> None:
    item = await new_item(client)
    body = '{"name": "x", "price": ' + number + "}"

    assert_uniform_422(await client.post(ITEMS, content=body, headers=JSON))
    assert_uniform_422(await client.patch(f"{ITEMS}/{item['id']}", content=body, headers=JSON))


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (ITEMS, '{"name": "\\ud800", "price": 1}'),
        (ITEMS, '{"name": "x", "description": "a\\udc00b", "price": 1}'),
        (CATEGORIES, '{"name": "\\udfff"}'),
    ],
)
async def test_a_lone_surrogate_in_a_text_field_is_a_422(
    client: AsyncClient, url: str, body: str
) -> None:
    assert_uniform_422(await client.post(url, content=body, headers=JSON))
