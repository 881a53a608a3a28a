"""Cache hits and the rate limit, answered before FastAPI routes the request.

A hit needs nothing from FastAPI: the body is stored as the response's bytes, and
only what a route stored can be found, so a request that finds an entry has
passed the route's validation once already. Answered here, a hit skips routing
and dependency resolution, and the rate limit's count and the lookup are one
Lua script: one round trip to Redis per hit, none re-validated.

Anything else goes on to the app: a miss (with the count already taken and its
headers added, so the route's read-through only looks up and fills), a request
this does not recognise, Redis unavailable, or a cache that lost an invalidation
and must start a new generation first (which the route's read-through does).
"""

import inspect
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import API_V1, PROBE_PATHS
from ..api.deps import get_page
from ..api.http_cache import etag_of, matches
from ..core.config import Settings
from .client import REDIS_UNAVAILABLE, FailOpen, run_script
from .rate_limit import COUNT, RateLimiter
from .responses import BOOT, LOOKUP, READ, RedisResponseCache, new_token

ITEMS = f"{API_V1}/items"
# Ids are at most ten digits (ID_MAX); longer ones are left to the route's 422.
ID_DIGITS = 10

COUNTED = (
    """
local counter_key, window = KEYS[1], ARGV[1]
"""
    + COUNT
    + "return {count, ttl}\n"
)
# Over the limit, the reply stops at the count: nothing is looked up for a 429.
COUNTED_LOOKUP = (
    BOOT
    + """
local counter_key, entry_key, version_key, generation_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local window, limit, field, token = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
"""
    + COUNT
    + "if count > limit then return {count, ttl} end\n"
    + LOOKUP
    + "return {count, ttl, body}\n"
)
HIT = (b"x-cache", b"hit")
JSON = (b"content-type", b"application/json")

Headers = list[tuple[bytes, bytes]]


class Scripts(NamedTuple):
    counted: AsyncScript
    counted_lookup: AsyncScript
    read: AsyncScript


class Route(NamedTuple):
    """What metrics read from `scope["route"]`, for a request no route has seen."""

    path_format: str


ITEM_ROUTE = Route(ITEMS + "/{item_id}")
PAGE_ROUTE = Route(ITEMS)
# The route's own defaults, so `/items` and `/items?limit=20` share one entry.
PAGE_DEFAULTS = {
    name: parameter.default for name, parameter in inspect.signature(get_page).parameters.items()
}


def canonical_int(text: str) -> int | None:
    """The number `text` spells in plain digits; None for anything the route may read
    differently (signs, spaces, leading zeros, other scripts' digits)."""
    plain = text.isascii() and text.isdigit() and len(text) <= ID_DIGITS
    if plain and (text == "0" or text[0] != "0"):
        return int(text)
    return None


def page_of(query: bytes) -> tuple[int, int] | None:
    """`limit` and `offset` from a query string of nothing else, each given at most once."""
    values = dict(PAGE_DEFAULTS)
    seen = set()
    for pair in query.split(b"&") if query else ():
        name, _, value = pair.decode("latin-1").partition("=")
        number = canonical_int(value)
        if name not in values or name in seen or number is None:
            return None
        seen.add(name)
        values[name] = number
    return values["limit"], values["offset"]


def cached_read(scope: Scope, cache: RedisResponseCache) -> tuple[tuple[str, str], Route] | None:
    """The entry this request would be answered from, and its route, if it is a cached read."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path == ITEMS:
        page = page_of(scope["query_string"])
        return None if page is None else (cache.page_key(*page), PAGE_ROUTE)
    if path.startswith(ITEMS) and path[len(ITEMS) : len(ITEMS) + 1] == "/":
        item_id = canonical_int(path[len(ITEMS) + 1 :])
        if item_id is not None and not scope["query_string"]:
            return cache.item_key(item_id), ITEM_ROUTE
    return None


class RedisFront:
    """Reads the pool, the guard and the cache from `app.state` (see `cache.open_cache`)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.limiter = RateLimiter(settings) if settings.rate_limit_enabled else None
        self.cache_control = (b"cache-control", settings.http_cache_control.encode("latin-1"))
        self.scripts: Scripts | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        guard: FailOpen = state.redis_guard
        cache: RedisResponseCache = state.cache
        read = None if cache.renewal_pending else cached_read(scope, cache)
        if (read is None and self.limiter is None) or not guard.available():
            await self.app(scope, receive, send)
            return
        try:
            reply = await self.ask(state.redis, cache, scope, read)
        except REDIS_UNAVAILABLE as error:
            guard.failed("rate limit" if read is None else "read", error)
            await self.app(scope, receive, send)
            return
        headers: Headers = []
        if self.limiter is not None:
            count, ttl, *reply = reply
            if self.limiter.exceeded(count):
                await self.limiter.refuse(send, ttl)
                return
            headers = self.limiter.headers(count, ttl)
        if read is not None and reply:
            scope["route"] = read[1]
            await self.answer_hit(scope, send, reply[0], headers)
        else:
            await self.app(scope, receive, adding(headers, send) if headers else send)

    async def ask(
        self,
        redis: Redis,
        cache: RedisResponseCache,
        scope: Scope,
        read: tuple[tuple[str, str], Route] | None,
    ) -> list[Any]:
        """One round trip: the count (with a limit), then the body (on a hit)."""
        scripts = self.scripts or self.register(redis)
        limiter = self.limiter
        keys: list[str] = []
        args: list[str | int] = []
        if limiter is not None:
            keys, args = [limiter.key(scope)], [limiter.window, limiter.limit]
        if read is None:
            script = scripts.counted
        else:
            (name, field), _ = read
            keys += [name, f"{name}:v", cache.generation_key]
            args += [field, new_token()]
            script = scripts.read if limiter is None else scripts.counted_lookup
        reply: list[Any] = await run_script(redis, script, keys, args)
        if limiter is None and read is not None:
            # The read-through's own script: the generation and the version come first.
            return reply[2:]
        return reply

    def register(self, redis: Redis) -> Scripts:
        self.scripts = Scripts(
            redis.register_script(COUNTED),
            redis.register_script(COUNTED_LOOKUP),
            redis.register_script(READ),
        )
        return self.scripts

    async def answer_hit(self, scope: Scope, send: Send, body: bytes, headers: Headers) -> None:
        """What `api.http_cache.conditional_json` answers, header for header."""
        etag = etag_of(body)
        cache_headers = [(b"etag", etag.encode()), self.cache_control, HIT]
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if if_none_match is not None and matches(if_none_match.decode("latin-1"), etag):
            start = {"type": "http.response.start", "status": 304}
            start["headers"] = [*cache_headers, *headers]
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        length = (b"content-length", str(len(body)).encode())
        start = {"type": "http.response.start", "status": 200}
        start["headers"] = [*cache_headers, length, JSON, *headers]
        await send(start)
        await send({"type": "http.response.body", "body": body})


def adding(headers: Headers, send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return send_with_headers
