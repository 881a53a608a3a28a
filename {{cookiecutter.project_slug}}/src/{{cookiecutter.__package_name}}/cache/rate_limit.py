"""Per-client rate limiting, counted in Redis by one atomic script.

A fixed window per client address: the first request of a window starts a
counter that expires with the window. The check and the increment happen in one
Lua script, so concurrent requests (across every worker and replica) can never
both see the last free slot. If Redis is unavailable, requests are let through.

A client is counted under the address the outermost trusted proxy received its
request from, never under one the client wrote itself. So X-Forwarded-For is read
here, from the raw header and from the right, `trusted_hops` entries deep:
uvicorn's own reading of it (FORWARDED_ALLOW_IPS) takes the leftmost entry when
every peer is trusted, and any client can set that one.
"""

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import PROBE_PATHS
from ..core.error_body import send_error
from .client import REDIS_UNAVAILABLE, FailOpen

COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('TTL', KEYS[1])}
"""
# An address is at most 45 characters (IPv6 with an IPv4 tail); a longer entry is cut
# rather than made into a key of any size.
MAX_ADDRESS_LENGTH = 64


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


class RateLimitMiddleware:
    """Reads the pool and the fail-open guard from `app.state` (see `cache.open_cache`)."""

    def __init__(
        self, app: ASGIApp, *, limit: int, window: int, prefix: str, trusted_hops: int = 0
    ) -> None:
        self.app = app
        self.limit = limit
        self.window = window
        self.prefix = f"{prefix}ratelimit:"
        self.trusted_hops = trusted_hops
        self.count: AsyncScript | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        guard: FailOpen = state.redis_guard
        if not guard.available():
            await self.app(scope, receive, send)
            return
        redis: Redis = state.redis
        client = client_address(scope, self.trusted_hops)
        if self.count is None:
            self.count = redis.register_script(COUNT)
        try:
            count, ttl = await self.count(keys=[self.prefix + client], args=[self.window])
        except REDIS_UNAVAILABLE as error:
            guard.failed("rate limit", error)
            await self.app(scope, receive, send)
            return
        reset = str(max(int(ttl), 0)).encode()
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.limit - int(count), 0)).encode()),
            (b"ratelimit-reset", reset),
        ]
        if int(count) > self.limit:
            await send_error(send, 429, "Too Many Requests", [*headers, (b"retry-after", reset)])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
