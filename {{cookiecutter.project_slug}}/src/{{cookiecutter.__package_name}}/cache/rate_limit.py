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

The count is taken by `front.RedisFront`, in the same round trip as a cached read
when the request is one.
"""

from starlette.types import Scope, Send

from ..core.config import Settings
from ..core.error_body import send_error

# Counts a request under `counter_key`, in a window of `window` seconds: `count` and `ttl`
# are then set. A part of scripts, so a cached read can be looked up in the same round trip.
COUNT = """
local count = redis.call('INCR', counter_key)
if count == 1 then
    redis.call('EXPIRE', counter_key, window)
end
local ttl = redis.call('TTL', counter_key)
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


class RateLimiter:
    """A client's key, the `RateLimit-*` headers and the 429, from the counts Redis returns."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.rate_limit_requests
        self.window = settings.rate_limit_window_seconds
        self.prefix = f"{settings.redis_key_prefix}ratelimit:"
        self.trusted_hops = settings.rate_limit_trusted_hops
        self.limit_header = (b"ratelimit-limit", str(self.limit).encode())

    def key(self, scope: Scope) -> str:
        return self.prefix + client_address(scope, self.trusted_hops)

    def headers(self, count: int, ttl: int) -> list[tuple[bytes, bytes]]:
        return [
            self.limit_header,
            (b"ratelimit-remaining", str(max(self.limit - count, 0)).encode()),
            (b"ratelimit-reset", str(max(ttl, 0)).encode()),
        ]

    def exceeded(self, count: int) -> bool:
        return count > self.limit

    async def refuse(self, send: Send, ttl: int) -> None:
        retry_after = (b"retry-after", str(max(ttl, 0)).encode())
        headers = [*self.headers(self.limit + 1, ttl), retry_after]
        await send_error(send, 429, "Too Many Requests", headers)
