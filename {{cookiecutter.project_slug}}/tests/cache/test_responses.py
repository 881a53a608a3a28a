"""The Redis read-through cache, against a real Redis: hits, invalidation, races, outages."""

import asyncio
from contextlib import AbstractAsyncContextManager

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from {{ cookiecutter.__package_name }}.api.deps import SessionFactory, get_reader_factory
from {{ cookiecutter.__package_name }}.cache.responses import RedisResponseCache

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
    cache: RedisResponseCache = app.state.cache
    loading, release = asyncio.Event(), asyncio.Event()

    async def slow_old_load() -> bytes:
        loading.set()
        await release.wait()
        return b'{"version":"old"}'

    async def new_load() -> bytes:
        return b'{"version":"new"}'

    reader = asyncio.create_task(cache.read_item(987_654, slow_old_load))
    await loading.wait()
    await cache.item_changed(987_654)  # a write commits while the reader is loading
    release.set()
    await reader

    assert await cache.read_item(987_654, new_load) == (b'{"version":"new"}', {"X-Cache": "miss"})
    assert await cache.read_item(987_654, new_load) == (b'{"version":"new"}', {"X-Cache": "hit"})


async def test_entries_left_by_an_earlier_redis_server_are_not_served(
    client_for: ClientFactory, prefix: str, redis: Redis
) -> None:
    """A Redis restart that reloads a snapshot brings back entries that later writes removed.

    The restart is played by putting back the keys as the snapshot held them, under the
    run id of another server (a restarted one never has the same).
    """
    generation_key = f"{prefix}generation"
    async with client_for(redis_key_prefix=prefix) as client:
        item = await create_item(client, name="old")
        url = f"{ITEMS}/{item['id']}"
        entry_key = f"{prefix}item:{item['id']}"
        try:
            await client.get(url)
            assert (await client.get(url)).headers["x-cache"] == "hit"
            generation = stored(await redis.get(generation_key))
            entry = stored(await redis.hget(entry_key, "entry"))
            await client.patch(url, json={"name": "new"})

            earlier_server = b"0" * 40
            run_id, _, _ = generation.partition(b":")
            await redis.set(generation_key, generation.replace(run_id, earlier_server, 1))
            await redis.hset(entry_key, "entry", entry.replace(run_id, earlier_server, 1))
            after_restart = await client.get(url)
        finally:
            await client.delete(url)

    assert b'"old"' in entry
    assert after_restart.headers["x-cache"] == "miss"
    assert after_restart.json()["name"] == "new"


async def test_a_busy_pool_gives_up_one_call_and_keeps_using_redis(
    client_for: ClientFactory, prefix: str
) -> None:
    """Waiting too long for a connection is load, not an outage: the guard must not trip."""
    apps: list[FastAPI] = []
    overrides = {"redis_key_prefix": prefix, "redis_max_connections": 1, "redis_pool_timeout": 0.05}
    async with client_for(apps.append, **overrides) as client:
        item = await create_item(client)
        url = f"{ITEMS}/{item['id']}"
        pool = apps[0].state.redis.connection_pool
        try:
            await client.get(url)
            held = await pool.get_connection()
            try:
                busy = await client.get(url)
            finally:
                await pool.release(held)
            after = await client.get(url)
            guard_available = apps[0].state.redis_guard.available()
        finally:
            await client.delete(url)

    assert (busy.status_code, busy.headers["x-cache"]) == (200, "miss")
    assert guard_available
    assert (after.status_code, after.headers["x-cache"]) == (200, "hit")


@pytest.mark.heavy
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
                assert (await client.get(url)).json()["price"] == f"{price}.00"
        finally:
            await client.delete(url)


@pytest.mark.heavy
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


@pytest.mark.heavy
async def test_the_cache_recovers_by_itself_when_redis_returns(
    client_for: ClientFactory, prefix: str, redis_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, proxied = redis_proxy
    overrides = {"redis_url": proxied, "redis_key_prefix": prefix, "redis_retry_after_seconds": 0}
    async with client_for(**overrides) as client:
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

    assert (down.status_code, down.headers["x-cache"]) == (200, "miss")
    assert (back.status_code, back.headers["x-cache"]) == (200, "hit")


@pytest.mark.heavy
async def test_a_write_during_an_outage_is_seen_by_every_worker_once_redis_is_back(
    client_for: ClientFactory, prefix: str, redis_proxy: tuple[TcpProxy, str]
) -> None:
    """Two apps on one Redis are two workers; the write's invalidation never reached Redis."""
    proxy, proxied = redis_proxy
    overrides = {"redis_url": proxied, "redis_key_prefix": prefix, "redis_retry_after_seconds": 0}
    async with client_for(**overrides) as writer, client_for(**overrides) as other:
        item = await create_item(writer, name="old")
        url = f"{ITEMS}/{item['id']}"
        try:
            await writer.get(url)
            assert (await other.get(url)).headers["x-cache"] == "hit"

            proxy.stop()
            patched = await writer.patch(url, json={"name": "new"})
            proxy.start()
            from_writer = await writer.get(url)
            from_other = await other.get(url)
        finally:
            await writer.delete(url)

    assert patched.status_code == 200
    assert (from_writer.json()["name"], from_writer.headers["x-cache"]) == ("new", "miss")
    assert from_other.json()["name"] == "new"


@pytest.mark.heavy
async def test_other_workers_drop_the_old_entry_even_if_the_writer_gets_no_request(
    client_for: ClientFactory, prefix: str, redis: Redis, redis_proxy: tuple[TcpProxy, str]
) -> None:
    """The writer starts the new generation in the background as soon as Redis answers."""
    proxy, proxied = redis_proxy
    overrides = {"redis_url": proxied, "redis_key_prefix": prefix, "redis_retry_after_seconds": 0}
    async with client_for(**overrides) as writer, client_for(**overrides) as other:
        item = await create_item(writer, name="old")
        url = f"{ITEMS}/{item['id']}"
        try:
            await writer.get(url)
            assert (await other.get(url)).headers["x-cache"] == "hit"
            before = stored(await redis.get(f"{prefix}generation"))

            proxy.stop()
            await writer.patch(url, json={"name": "new"})
            proxy.start()
            renewed = await generation_changes(redis, f"{prefix}generation", before)
            from_other = await other.get(url)
        finally:
            await writer.delete(url)

    assert renewed
    assert (from_other.json()["name"], from_other.headers["x-cache"]) == ("new", "miss")


def stored(value: bytes | str | None) -> bytes:
    assert isinstance(value, bytes), value
    return value


async def generation_changes(redis: Redis, key: str, before: bytes, within: float = 10.0) -> bool:
    for _ in range(int(within / 0.05)):
        if await redis.get(key) != before:
            return True
        await asyncio.sleep(0.05)
    return False
