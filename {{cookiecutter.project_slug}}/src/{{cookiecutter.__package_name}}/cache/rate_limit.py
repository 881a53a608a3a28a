"""Per-client rate limiting, counted in Redis by `limits` so every worker and replica agree.

A fixed window per client address: the first request of a window starts a
counter that expires with the window, and one atomic script counts and checks.
A client over the limit gets a 429 with `Retry-After`. If Redis is unavailable,
requests are let through.

A client is counted under the address the outermost trusted proxy received its
request from, never under one the client wrote itself. So X-Forwarded-For is read
here, from the raw header and from the right, `trusted_hops` entries deep:
uvicorn's own reading of it (FORWARDED_ALLOW_IPS) takes the leftmost entry when
every peer is trusted, and any client can set that one.
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

# An address is at most 45 characters (IPv6 with an IPv4 tail); a longer entry is cut
# rather than made into a key of any size.
MAX_ADDRESS_LENGTH = 64
TOO_MANY_REQUESTS = "Too many requests; try again after Retry-After seconds"
# How OpenAPI documents the 429 of every route the limit applies to.
RATE_LIMITED = described(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_REQUESTS)


def client_address(scope: Scope, trusted_hops: int) -> str:
    """The address the outermost of `trusted_hops` proxies saw the request come from.

    Each proxy appends the address it received the request from to
    X-Forwarded-For, so counted from the right, after `trusted_hops - 1` proxy
    addresses, comes the client. A request with fewer entries (one that did not
    come through every proxy) is counted under the leftmost entry it has.
    """
    peer = scope["client"][0] if scope.get("client") else "unknown"
    if trusted_hops == 0:
        return peer
    forwarded = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    if not hops:
        return peer
    return hops[max(len(hops) - trusted_hops, 0)][:MAX_ADDRESS_LENGTH]


class RateLimiter:
    def __init__(self, counters: Storage, settings: Settings, guard: FailOpen) -> None:
        self.strategy = FixedWindowRateLimiter(counters)
        self.item = RateLimitItemPerSecond(
            settings.rate_limit_requests, settings.rate_limit_window_seconds
        )
        self.trusted_hops = settings.rate_limit_trusted_hops
        self.guard = guard
        self.call_timeout = settings.redis_socket_timeout

    async def check(self, scope: Scope) -> None:
        """Count the request; a 429 once its client is over the limit."""
        if not self.guard.available():
            return
        client = client_address(scope, self.trusted_hops)
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
