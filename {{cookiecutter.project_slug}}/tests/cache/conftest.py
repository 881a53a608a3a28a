"""Fixtures for the Redis option: a client of the tests' own, keys of their own, an outage switch."""

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from {{ cookiecutter.__package_name }}.cache.responses import RedisCache
from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import services
from tests.tcp_proxy import TcpProxy


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """Straight to Redis, for looking at keys and changing them behind the app's back."""
    client = Redis.from_url(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def prefix(settings: Settings, redis: Redis) -> AsyncIterator[str]:
    """REDIS_KEY_PREFIX for one test's apps, so their generation and counters start fresh."""
    prefix = f"{settings.redis_key_prefix}{uuid4().hex}:"
    yield prefix
    keys = [key async for key in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
def redis_proxy(settings: Settings) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test Redis, running, and the REDIS_URL that goes through it."""
    target = urlsplit(settings.redis_url)
    proxy = TcpProxy(target.hostname or "localhost", target.port or 6379)
    proxy.start()
    credentials, _, _ = target.netloc.rpartition("@")
    netloc = f"{credentials}@" if credentials else ""
    url = target._replace(netloc=f"{netloc}127.0.0.1:{proxy.port}").geturl()
    try:
        yield proxy, url
    finally:
        proxy.stop()


def redis_cache(app: FastAPI) -> RedisCache:
    """The cache a running app reads through."""
    cache = services(app).store.cache
    assert isinstance(cache, RedisCache)
    return cache
