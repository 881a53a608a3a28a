"""Per-client rate limiting, counted in Redis by one atomic script.

A fixed window per client address: the first request of a window starts a
counter that expires with the window. The check and the increment happen in one
Lua script, so concurrent requests (across every worker and replica) can never
both see the last free slot. If Redis is unavailable, requests are let through.
"""

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.logging import request_id_var
from ..core.redis import REDIS_UNAVAILABLE, FailOpen

COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('TTL', KEYS[1])}
"""
# Probes and scrapes must never be throttled.
EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, limit: int, window: int, prefix: str, guard: FailOpen
    ) -> None:
        self.app = app
        self.limit = limit
        self.window = window
        self.prefix = f"{prefix}ratelimit:"
        self.guard = guard
        self.count: AsyncScript | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS or not self.guard.available():
            await self.app(scope, receive, send)
            return
        redis: Redis = scope["app"].state.redis
        client = scope["client"][0] if scope.get("client") else "unknown"
        if self.count is None:
            self.count = redis.register_script(COUNT)
        try:
            count, ttl = await self.count(keys=[self.prefix + client], args=[self.window])
        except REDIS_UNAVAILABLE as error:
            self.guard.failed("rate limit", error)
            await self.app(scope, receive, send)
            return
        reset = str(max(int(ttl), 0)).encode()
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.limit - int(count), 0)).encode()),
            (b"ratelimit-reset", reset),
        ]
        if int(count) > self.limit:
            await self.reject(send, [*headers, (b"retry-after", reset)])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def reject(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        body = b'{"detail":"Too Many Requests","request_id":"%s"}' % (
            (request_id_var.get() or "").encode()
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"content-type", b"application/json"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})
