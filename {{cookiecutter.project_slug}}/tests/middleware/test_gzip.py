from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from httpx import AsyncClient

from tests.conftest import ClientFactory

ITEMS = "/api/v1/items"


async def fill(client: AsyncClient, count: int) -> None:
    for n in range(count):
        item = {"name": f"item {n}", "price": 1, "description": "a fairly ordinary item"}
        assert (await client.post(ITEMS, json=item)).status_code == 201


async def test_large_json_is_compressed_for_clients_that_accept_gzip(client: AsyncClient) -> None:
    await fill(client, 30)

    response = await client.get(ITEMS, params={"limit": 30}, headers={"Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert len(response.json()) == 30


async def test_a_gzipped_body_and_its_plain_form_share_only_a_weak_etag(
    client: AsyncClient,
) -> None:
    """Other bytes, same content: one validator for both is only right if it is weak."""
    await fill(client, 30)

    gzipped = await client.get(ITEMS, params={"limit": 30}, headers={"Accept-Encoding": "gzip"})
    plain = await client.get(ITEMS, params={"limit": 30}, headers={"Accept-Encoding": "identity"})

    assert gzipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert gzipped.headers["etag"] == plain.headers["etag"]
    assert gzipped.headers["etag"].startswith('W/"')


async def test_large_json_is_not_compressed_for_other_clients(client: AsyncClient) -> None:
    await fill(client, 30)

    for accept in ("identity", "br"):
        response = await client.get(
            ITEMS, params={"limit": 30}, headers={"Accept-Encoding": accept}
        )
        assert "content-encoding" not in response.headers, accept
        assert len(response.json()) == 30


async def test_small_responses_are_never_compressed(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers


def add_event_stream(app: FastAPI) -> None:
    async def events() -> StreamingResponse:
        async def lines() -> AsyncIterator[str]:
            for n in range(200):
                yield f"data: event {n}\n\n"

        return StreamingResponse(lines(), media_type="text/event-stream")

    app.add_api_route("/events", events)


async def test_event_streams_are_never_compressed(client_for: ClientFactory) -> None:
    async with client_for(extend=add_event_stream) as client:
        response = await client.get("/events", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers
    assert response.text.count("data: event") == 200
