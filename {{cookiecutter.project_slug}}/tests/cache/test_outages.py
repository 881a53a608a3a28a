"""Redis slow, busy, down and back, against a real Redis behind a proxy: every answer
comes from the database meanwhile, and no write is ever followed by the old value."""

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import bindparam, update
from sqlmodel import col

from {{ cookiecutter.__package_name }}.api.resources import WRITES_PAUSED
from {{ cookiecutter.__package_name }}.cache import open_redis
from {{ cookiecutter.__package_name }}.cache.client import FailOpen
from {{ cookiecutter.__package_name }}.caching import CacheKey
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.db import Statement
from {{ cookiecutter.__package_name }}.models.items import Item

from tests.api.routes.test_items import new_item
from tests.cache.conftest import redis_cache
from tests.conftest import ClientFactory, services
from tests.tcp_proxy import TcpProxy

ITEMS = "/api/v1/items"
OUTAGE_LOGGED = "Redis unavailable"
RENAME = Statement(
    update(Item).where(col(Item.id) == bindparam("item_id")).values(name=bindparam("name"))
)
MARK_EXPIRES_MS = 500


def through(proxied: str, prefix: str, **overrides: Any) -> dict[str, Any]:
    """Settings for an app on Redis through the proxy, under the test's own keys."""
    return {"redis_url": proxied, "redis_key_prefix": prefix, **overrides}


async def test_a_slow_reply_gives_up_one_call_and_keeps_redis_in_use(
    client_for: ClientFactory, prefix: str, redis_proxy: tuple[TcpProxy, str]
) -> None:
    """A late reply is load, not an outage: had the guard tripped, the read after it
    would skip Redis for REDIS_RETRY_AFTER_SECONDS and be a miss."""
    proxy, proxied = redis_proxy
    overrides = through(proxied, prefix, redis_socket_timeout=0.5, redis_retry_after_seconds=60)
    async with client_for(**overrides) as client:
        item = await new_item(client)
        url = f"{ITEMS}/{item['id']}"
        await client.get(url)

        proxy.blackhole()
        try:
            slow = await client.get(url)
        finally:
            proxy.heal()
        after = await client.get(url)

    assert (slow.status_code, slow.headers["x-cache"]) == (200, "miss")
    assert (after.status_code, after.headers["x-cache"]) == (200, "hit")


async def test_a_saturated_pool_gives_up_one_call_and_keeps_redis_in_use(
    client_for: ClientFactory, prefix: str
) -> None:
    """Waiting too long for a connection is load, not an outage: the guard must not trip."""
    apps: list[FastAPI] = []
    overrides = {
        "redis_key_prefix": prefix,
        "redis_max_connections": 1,
        "redis_socket_timeout": 0.5,
        "redis_retry_after_seconds": 60,
    }
    async with client_for(apps.append, **overrides) as client:
        item = await new_item(client)
        url = f"{ITEMS}/{item['id']}"
        await client.get(url)
        pool = redis_cache(apps[0]).redis.connection_pool
        held = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            busy = await client.get(url)
        finally:
            await pool.release(held)
        after = await client.get(url)

    assert (busy.status_code, busy.headers["x-cache"]) == (200, "miss")
    assert (after.status_code, after.headers["x-cache"]) == (200, "hit")


@pytest.mark.heavy
async def test_redis_down_serves_reads_from_the_database_refuses_writes_and_logs_once(
    client_for: ClientFactory,
    prefix: str,
    redis_proxy: tuple[TcpProxy, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Retried at every request (no wait between tries here), logged once. A write the
    cache cannot be told of could leave it serving what the write replaced: refused."""
    proxy, proxied = redis_proxy
    async with client_for(**through(proxied, prefix, redis_retry_after_seconds=0)) as client:
        item = await new_item(client, name="before")
        url = f"{ITEMS}/{item['id']}"
        proxy.stop()
        try:
            reads = [await client.get(url) for _ in range(3)]
            patched = await client.patch(url, json={"name": "after"})
            created = await client.post(ITEMS, json={"name": "new", "price": 1})
            deleted = await client.delete(url)
            read_after = await client.get(url)
            listed = await client.get(ITEMS)
        finally:
            proxy.start()  # for the clean-up after the test

    assert [r.status_code for r in [*reads, read_after, listed]] == [200] * 5
    assert {r.headers["x-cache"] for r in [*reads, read_after, listed]} == {"miss"}
    for refused in (patched, created, deleted):
        assert (refused.status_code, refused.json()["detail"]) == (503, WRITES_PAUSED)
        assert refused.headers["retry-after"] == "5"
    assert [entry["name"] for entry in listed.json()] == ["before"]
    warnings = [record for record in caplog.records if OUTAGE_LOGGED in record.getMessage()]
    assert len(warnings) == 1


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A local port whose connection attempts are neither accepted nor refused, as
    with a host that is gone: its listener's backlog is full and never drained."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        queued = [socket.socket() for _ in range(3)]
        try:
            for waiting in queued:
                waiting.setblocking(False)
                waiting.connect_ex(("127.0.0.1", port))
            time.sleep(0.1)
            yield port
        finally:
            for waiting in queued:
                waiting.close()


@pytest.mark.heavy
async def test_a_redis_that_cannot_be_connected_to_is_down_not_slow(
    settings: Settings, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Connecting takes longer than REDIS_CONNECT_TIMEOUT: Redis is skipped from then
    on (for REDIS_RETRY_AFTER_SECONDS), not waited for again at every call."""
    key = CacheKey("items", "shape", "1", row=1)

    async def load() -> bytes:
        return b"{}"

    with unanswered_port() as port:
        unreachable = settings.model_copy(
            update={
                "redis_url": f"redis://127.0.0.1:{port}/0",
                "redis_key_prefix": prefix,
                "redis_connect_timeout": 0.2,
                "redis_retry_after_seconds": 60,
            }
        )
        async with open_redis(unreachable) as redis:
            read = await redis.cache.read_through(key, load)
            skipped = not redis.cache.guard.available()

    assert read == (b"{}", "miss")
    assert skipped
    warnings = [record for record in caplog.records if OUTAGE_LOGGED in record.getMessage()]
    assert len(warnings) == 1


def test_an_outage_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    guard = FailOpen(retry_after=0, log_interval=0.2)
    refused = RedisConnectionError("Connection refused")

    for _ in range(3):
        guard.failed("read", refused)
    time.sleep(0.25)
    guard.failed("read", refused)

    warnings = [record for record in caplog.records if OUTAGE_LOGGED in record.getMessage()]
    assert len(warnings) == 2
    assert all(record.levelno == logging.WARNING for record in warnings)


@pytest.mark.heavy
async def test_the_cache_recovers_by_itself_when_redis_returns(
    client_for: ClientFactory, prefix: str, redis_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, proxied = redis_proxy
    async with client_for(**through(proxied, prefix, redis_retry_after_seconds=0)) as client:
        item = await new_item(client)
        url = f"{ITEMS}/{item['id']}"
        await client.get(url)
        assert (await client.get(url)).headers["x-cache"] == "hit"

        proxy.stop()
        down = await client.get(url)
        proxy.start()
        await client.get(url)  # refills the cache
        back = await client.get(url)

    assert (down.status_code, down.headers["x-cache"]) == (200, "miss")
    assert (back.status_code, back.headers["x-cache"]) == (200, "hit")


@pytest.mark.heavy
async def test_a_writer_that_dies_mid_write_leaves_nothing_old_to_serve(
    client_for: ClientFactory, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two apps on one Redis are two workers. One marks a write, commits it and dies before
    it can unmark it: the other never serves the old value, and caches again once the
    mark has expired."""
    apps: list[FastAPI] = []
    async with (
        client_for(apps.append, redis_key_prefix=prefix) as writer,
        client_for(redis_key_prefix=prefix) as other,
    ):
        item = await new_item(writer, name="old")
        url = f"{ITEMS}/{item['id']}"
        await other.get(url)
        assert (await other.get(url)).headers["x-cache"] == "hit"
        store = services(apps[0]).store
        # As if no write could take longer than that.
        monkeypatch.setattr(store.cache, "marker_ms", MARK_EXPIRES_MS)
        dying = store.cache.changing("items", item["id"])
        await dying.__aenter__()  # entered, never left: the writer died
        await store.database.fetch_all(RENAME, item_id=item["id"], name="new")
        during = [await other.get(url) for _ in range(2)]
        await asyncio.sleep(MARK_EXPIRES_MS / 1000)
        after = [await other.get(url) for _ in range(2)]
        await dying.__aexit__(None, None, None)

    assert [(r.json()["name"], r.headers["x-cache"]) for r in during] == [("new", "miss")] * 2
    assert [(r.json()["name"], r.headers["x-cache"]) for r in after] == [
        ("new", "miss"),
        ("new", "hit"),
    ]


@pytest.mark.heavy
async def test_a_write_refused_during_an_outage_leaves_every_worker_consistent(
    client_for: ClientFactory, prefix: str, redis_proxy: tuple[TcpProxy, str]
) -> None:
    """Nothing was written, so the entries from before the outage are still right."""
    proxy, proxied = redis_proxy
    overrides = through(proxied, prefix, redis_retry_after_seconds=0)
    async with client_for(**overrides) as writer, client_for(**overrides) as other:
        item = await new_item(writer, name="old")
        url = f"{ITEMS}/{item['id']}"
        await other.get(url)
        proxy.stop()
        patched = await writer.patch(url, json={"name": "new"})
        proxy.start()
        from_writer = await writer.get(url)
        from_other = await other.get(url)

    assert patched.status_code == 503
    assert (from_writer.json()["name"], from_writer.headers["x-cache"]) == ("old", "hit")
    assert (from_other.json()["name"], from_other.headers["x-cache"]) == ("old", "hit")
