"""The Redis option: the response cache and the rate limiter, on one pool and one guard.

`open_redis` is the option's seam into the app: `services.open_services` enters
it and hands its parts to the routes' dependencies.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis

from ..core.config import Settings
from .client import FailOpen, create_redis
from .rate_limit import RateLimiter
from .responses import RedisCache


@dataclass(frozen=True)
class RedisParts:
    redis: Redis
    cache: RedisCache
    # Counters in Redis (`limits`): of the rate limit, and of whatever else counts clients.
    counters: RedisStorage
    # None with RATE_LIMIT_ENABLED=false.
    rate_limiter: RateLimiter | None


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[RedisParts]:
    redis = create_redis(settings)
    # Shared by the cache and the rate limit: one outage makes both skip Redis.
    guard = FailOpen(settings.redis_retry_after_seconds)
    cache = RedisCache(
        redis,
        prefix=settings.redis_key_prefix,
        ttl=settings.cache_ttl_seconds,
        max_pages=settings.cache_max_pages,
        longest_write=settings.longest_write_seconds,
        guard=guard,
        call_timeout=settings.redis_socket_timeout,
    )
    counters = RedisStorage(
        f"async+{settings.redis_url}",
        implementation="redispy",
        key_prefix=f"{settings.redis_key_prefix}counters",
        # Errors as `limits.errors.StorageError`, whatever the client raised.
        wrap_exceptions=True,
        # A documented option that limits types as a scalar.
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )
    limiter = RateLimiter(counters, settings, guard) if settings.rate_limit_enabled else None
    try:
        yield RedisParts(redis, cache, counters, limiter)
    finally:
        await redis.aclose(close_connection_pool=True)
