"""The Redis option: the response cache and the rate limiter, on one pool and one guard.

`open_redis` is the option's seam into the app: `services.open_services` enters
it and hands its parts to the routes' dependencies.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from ..core.config import Settings
from .client import FailOpen, create_redis
from .rate_limit import RateLimiter
from .responses import RedisCache


@dataclass(frozen=True)
class RedisParts:
    redis: Redis
    cache: RedisCache
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
        guard=guard,
        call_timeout=settings.redis_socket_timeout,
    )
    limiter = RateLimiter(redis, settings, guard) if settings.rate_limit_enabled else None
    try:
        yield RedisParts(redis, cache, limiter)
    finally:
        await cache.aclose()
        await redis.aclose(close_connection_pool=True)
