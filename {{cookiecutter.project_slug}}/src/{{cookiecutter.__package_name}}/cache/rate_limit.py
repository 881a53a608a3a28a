"""Per-client rate limiting, counted in Redis by `limits` so every worker and replica agree.

A fixed window per client address: the first request of a window starts a
counter that expires with the window, and one atomic script counts and checks.
A client over the limit gets a 429 with `Retry-After`. If Redis is unavailable,
requests are let through.

A client is counted under the address the server settled on (`request.client`):
the connecting address, or, from a proxy listed in FORWARDED_ALLOW_IPS, the
rightmost X-Forwarded-For entry that no listed proxy wrote. So a client can choose
its bucket only by reaching the service around the proxies, which the deployment
must make impossible (the Kubernetes manifests' NetworkPolicy does).
"""

import asyncio
import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from starlette.types import Scope

from ..core.config import Settings
from ..core.error_body import described
from .client import REDIS_UNAVAILABLE, FailOpen

TOO_MANY_REQUESTS = "Too many requests; try again after Retry-After seconds"
# How OpenAPI documents the 429 of every route the limit applies to.
RATE_LIMITED = described(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_REQUESTS)


class RateLimiter:
    def __init__(self, counters: Storage, settings: Settings, guard: FailOpen) -> None:
        self.strategy = FixedWindowRateLimiter(counters)
        self.item = RateLimitItemPerSecond(
            settings.rate_limit_requests, settings.rate_limit_window_seconds
        )
        self.guard = guard
        self.call_timeout = settings.redis_socket_timeout

    async def check(self, scope: Scope) -> None:
        """Count the request; a 429 once its client is over the limit."""
        if not self.guard.available():
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            async with asyncio.timeout(self.call_timeout):
                if await self.strategy.hit(self.item, client):
                    return
                window = await self.strategy.get_window_stats(self.item, client)
        except (*REDIS_UNAVAILABLE, StorageError) as error:
            self.guard.failed("rate limit", error)
            return
        retry_after = str(max(math.ceil(window.reset_time - time.time()), 1))
        headers = {
            "Retry-After": retry_after,
            "RateLimit-Limit": str(self.item.amount),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": retry_after,
        }
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_REQUESTS, headers)


async def rate_limit(request: Request) -> None:
    """A dependency of every API route (see `api.router`); none with RATE_LIMIT_ENABLED=false."""
    limiter: RateLimiter | None = request.app.state.services.rate_limiter
    if limiter is not None:
        await limiter.check(request.scope)
