"""HEAD wherever GET is answered: the same status and headers, no body (RFC 9110 §9.3.2)."""

from httpx import AsyncClient

from tests.conftest import created

ITEMS = "/api/v1/items"


async def test_head_answers_every_get_route_with_the_gets_headers_and_no_body(
    client: AsyncClient,
) -> None:
    item = await created(client, ITEMS, {"name": "Lamp", "price": 9})
    for path in (ITEMS, f"{ITEMS}/{item['id']}", "/ready", "/health"):
        get = await client.get(path)
        head = await client.head(path)

        assert (head.status_code, get.status_code) == (200, 200), path
        assert head.content == b"", path
        assert head.headers["content-length"] == get.headers["content-length"], path
        assert head.headers.get("etag") == get.headers.get("etag"), path


async def test_head_of_a_missing_row_is_its_404(client: AsyncClient) -> None:
    response = await client.head(f"{ITEMS}/424242")

    assert response.status_code == 404
    assert response.content == b""
