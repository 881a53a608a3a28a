"""The Redis option: the response cache, the rate limiter, and the pool and guard they share.

`open_cache` is the option's one seam into the app: the lifespan enters it, and
it leaves on `app.state` what the handlers (`cache`) and the middleware in front
of them (`front.RedisFront`: `redis`, `redis_guard`, `cache`) read.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.datastructures import State

from ..core.config import Settings
from .client import FailOpen, create_redis
from .responses import RedisResponseCache


@asynccontextmanager
async def open_cache(state: State, settings: Settings) -> AsyncIterator[None]:
    redis = create_redis(settings)
    # Shared by the cache, the front and the rate limit: one outage makes all skip Redis.
    guard = FailOpen(settings.redis_retry_after_seconds)
    state.redis = redis
    state.redis_guard = guard
    cache = RedisResponseCache(
        redis, prefix=settings.redis_key_prefix, ttl=settings.cache_ttl_seconds, guard=guard
    )
    state.cache = cache
    try:
        yield
    finally:
        await cache.aclose()
        await redis.aclose(close_connection_pool=True)
