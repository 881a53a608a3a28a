"""The Redis read-through cache, against a real Redis: hits, invalidation, races, outages."""

import asyncio
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from {{ cookiecutter.__package_name }}.api.deps import SessionFactory, get_reader_factory
from {{ cookiecutter.__package_name }}.cache import ResponseCache
from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory, create_item
from tests.tcp_proxy import TcpProxy

ITEMS = "/api/v1/items"


async def test_the_second_read_is_a_hit_with_the_same_body(client: AsyncClient) -> None:
    item = await create_item(client)

    first = await client.get(f"{ITEMS}/{item['id']}")
    second = await client.get(f"{ITEMS}/{item['id']}")

    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]


async def test_a_hit_opens_no_database_session(app: FastAPI, client: AsyncClient) -> None:
    item = await create_item(client)
    await client.get(f"{ITEMS}/{item['id']}")

    async def no_sessions() -> SessionFactory:
        def refuse() -> AbstractAsyncContextManager[AsyncSession]:
            raise AssertionError("a cache hit must not open a database session")

        return refuse

    app.dependency_overrides[get_reader_factory] = no_sessions
    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.status_code == 200
    assert response.headers["x-cache"] == "hit"


async def test_patch_invalidates_the_item_and_the_lists(client: AsyncClient) -> None:
    item = await create_item(client, name="before")
    for _ in range(2):
        await client.get(f"{ITEMS}/{item['id']}")
        await client.get(ITEMS)

    await client.patch(f"{ITEMS}/{item['id']}", json={"name": "after"})
    single = await client.get(f"{ITEMS}/{item['id']}")
    listed = await client.get(ITEMS)

    assert single.headers["x-cache"] == "miss"
    assert single.json()["name"] == "after"
    assert listed.headers["x-cache"] == "miss"
    assert [entry["name"] for entry in listed.json()] == ["after"]


async def test_delete_invalidates_the_item_and_the_lists(client: AsyncClient) -> None:
    item = await create_item(client)
    await client.get(f"{ITEMS}/{item['id']}")
    await client.get(ITEMS)

    await client.delete(f"{ITEMS}/{item['id']}")

    assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 404
    assert (await client.get(ITEMS)).json() == []


async def test_create_invalidates_the_lists(client: AsyncClient) -> None:
    await create_item(client, name="first")
    await client.get(ITEMS)

    await create_item(client, name="second")

    assert [entry["name"] for entry in (await client.get(ITEMS)).json()] == ["first", "second"]


async def test_a_fill_that_raced_a_write_is_refused(app: FastAPI) -> None:
    """A reader that loaded old data before a write must not store it after the write."""
    cache: ResponseCache = app.state.cache
    key = cache.item_key(987_654)
    loading, release = asyncio.Event(), asyncio.Event()

    async def slow_old_load() -> bytes:
        loading.set()
        await release.wait()
        return b'{"version":"old"}'

    async def new_load() -> bytes:
        return b'{"version":"new"}'

    reader = asyncio.create_task(cache.read_through(key, slow_old_load))
    await loading.wait()
    await cache.invalidate_item(987_654)  # a write commits while the reader is loading
    release.set()
    await reader

    assert await cache.read_through(key, new_load) == (b'{"version":"new"}', False)
    assert await cache.read_through(key, new_load) == (b'{"version":"new"}', True)


async def test_reads_right_after_writes_see_them_under_concurrent_traffic(
    client_for: ClientFactory,
) -> None:
    """Real sessions and commits: each write is visible to the next read, whatever runs around it."""
    async with client_for() as client:
        item = await create_item(client)
        url = f"{ITEMS}/{item['id']}"
        try:
            for price in range(1, 11):
                readers = [client.get(url) for _ in range(10)]
                results = await asyncio.gather(client.patch(url, json={"price": price}), *readers)
                assert all(response.status_code == 200 for response in results)
                assert (await client.get(url)).json()["price"] == price
        finally:
            await client.delete(url)


async def test_redis_down_serves_from_the_database_and_logs_once(
    client_for: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(redis_url="redis://127.0.0.1:9/0") as client:
        item = await create_item(client)
        url = f"{ITEMS}/{item['id']}"
        try:
            reads = [await client.get(url) for _ in range(5)]
            patched = await client.patch(url, json={"price": 7})
            listed = await client.get(ITEMS)
        finally:
            await client.delete(url)

    assert [response.status_code for response in reads] == [200] * 5
    assert {response.headers["x-cache"] for response in reads} == {"miss"}
    assert patched.status_code == 200
    assert listed.status_code == 200
    warnings = [record for record in caplog.records if "Redis unavailable" in record.message]
    assert len(warnings) == 1


async def test_the_cache_recovers_by_itself_when_redis_returns(
    settings: Settings, client_for: ClientFactory
) -> None:
    target = urlsplit(settings.redis_url)
    proxy = TcpProxy(target.hostname or "localhost", target.port or 6379)
    proxy.start()
    proxied = settings.redis_url.replace(target.netloc, f"127.0.0.1:{proxy.port}")
    async with client_for(redis_url=proxied, redis_retry_after_seconds=0) as client:
        item = await create_item(client)
        url = f"{ITEMS}/{item['id']}"
        try:
            await client.get(url)
            assert (await client.get(url)).headers["x-cache"] == "hit"

            proxy.stop()
            down = await client.get(url)
            proxy.start()
            await client.get(url)  # refills the cache
            back = await client.get(url)
        finally:
            await client.delete(url)
            proxy.stop()

    assert (down.status_code, down.headers["x-cache"]) == (200, "miss")
    assert (back.status_code, back.headers["x-cache"]) == (200, "hit")
