"""Bodies over MAX_REQUEST_BODY_BYTES are a 413 in the service's error body, declared or not."""

from collections.abc import AsyncIterator

from httpx import AsyncClient

from tests.conftest import ClientFactory

LIMIT = 1024
ITEMS = "/api/v1/items"
JSON = {"Content-Type": "application/json"}


async def test_a_declared_oversized_body_is_413_in_the_error_body(
    client_for: ClientFactory,
) -> None:
    async with client_for(max_request_body_bytes=LIMIT) as client:
        response = await client.post(ITEMS, content=b"x" * (LIMIT + 1), headers=JSON)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "Content Too Large",
        "request_id": response.headers["x-request-id"],
    }
    assert response.headers["connection"] == "close"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_declared_oversized_body_is_refused_on_any_path(client_for: ClientFactory) -> None:
    """Refused before routing: nothing reads a body that large, wherever it is sent."""
    async with client_for(max_request_body_bytes=LIMIT) as client:
        for path in ("/no/such/path", f"{ITEMS}/1", "/ready"):
            response = await client.put(path, content=b"x" * (LIMIT + 1))
            assert response.status_code == 413, path


async def test_a_streamed_oversized_body_is_413_before_it_is_read_whole(
    client_for: ClientFactory,
) -> None:
    """Without a Content-Length (chunked), the body is counted as the route reads it."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 512
            yield b" " * 512

    async with client_for(max_request_body_bytes=LIMIT) as client:
        response = await client.post(ITEMS, content=chunks(), headers=JSON)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "Content Too Large",
        "request_id": response.headers["x-request-id"],
    }
    assert response.headers["connection"] == "close"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert sent < 100 * 512


async def test_bodies_within_the_limit_pass(client_for: ClientFactory) -> None:
    body = b'{"name": "%s", "price": 1}' % (b"x" * 200)

    async with client_for(max_request_body_bytes=len(body)) as client:
        declared = await client.post(ITEMS, content=body, headers=JSON)

        async def streamed() -> AsyncIterator[bytes]:
            yield body

        chunked = await client.post(ITEMS, content=streamed(), headers=JSON)

    assert (declared.status_code, chunked.status_code) == (201, 201), declared.text


async def test_the_default_limit_is_a_megabyte(client: AsyncClient) -> None:
    response = await client.post(ITEMS, content=b" " * (1024 * 1024 + 1))

    assert response.status_code == 413
