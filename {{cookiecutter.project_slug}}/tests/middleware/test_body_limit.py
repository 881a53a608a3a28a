import asyncio
from collections.abc import AsyncIterator

from httpx import AsyncClient

from tests.conftest import ClientFactory

LIMIT = 1024


async def test_a_declared_oversized_body_is_413(client_for: ClientFactory) -> None:
    async with client_for(max_request_body_bytes=LIMIT) as client:
        response = await client.post(
            "/api/v1/items",
            content=b"x" * (LIMIT + 1),
            headers={"Content-Type": "application/json"},
        )

    assert response.status_code == 413
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_a_streamed_oversized_body_is_413_before_it_is_read_whole(
    client_for: ClientFactory,
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 512
            yield b" " * 512

    async with client_for(max_request_body_bytes=LIMIT) as client:
        response = await client.post("/api/v1/items", content=chunks())

    assert response.status_code == 413
    assert sent < 100 * 512


async def test_bodies_within_the_limit_pass(client: AsyncClient) -> None:
    response = await client.post("/api/v1/items", json={"name": "x" * 200, "price": 1})

    assert response.status_code == 201


async def test_a_body_that_stalls_is_408(client_for: ClientFactory) -> None:
    async def stalling() -> AsyncIterator[bytes]:
        yield b'{"name": "slow",'
        await asyncio.sleep(2)
        yield b' "price": 1}'

    async with client_for(request_body_timeout_seconds=0.2) as client:
        response = await client.post(
            "/api/v1/items", content=stalling(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 408
    assert response.json()["request_id"] == response.headers["x-request-id"]
