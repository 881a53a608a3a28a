"""A read-through cache of response bodies in Redis that a write never leaves stale.

Keys, all under REDIS_KEY_PREFIX:
- `generation`: `<run id of the Redis server>:<token>`;
- `v:<resource>` and `v:<resource>:<row>`: versions, random tokens that writes delete;
- `e:<resource>:<shape>:<entry>:<generation>:<versions>`: a response body.

An entry's name holds the generation and the versions of everything it was read
from, so a write only deletes those versions: the entries built on them are
never looked up again and expire after CACHE_TTL_SECONDS. A reader that loaded
old data while a write committed stores it under the old versions, where nobody
looks. `shape` changes with the response's schema, so a deploy that adds a field
never serves a body without it.

An invalidation can be lost: Redis was unreachable, or did not answer in time.
The process that lost it starts a new generation before it reads from Redis
again, and keeps trying in the background until it has, so the other processes
stop serving the old entries as soon as that succeeds. A Redis server that
restarts and reloads a snapshot brings back entries that writes since the
snapshot had removed; its new run id makes all of them a miss.

The lookup is one Lua script, one round trip; the script builds the entry's name
from the versions it reads, so the cache needs one Redis server, not a cluster.
"""

import asyncio
import contextlib
import logging
import random

from redis.asyncio import Redis

from ..caching import CacheKey, Load, Source
from .client import REDIS_UNAVAILABLE, FailOpen

logger = logging.getLogger(__name__)

# The server's run id, which changes at every start: snapshots do not carry it over.
BOOT = "local boot = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')\n"
# KEYS: the generation, then each version the entry depends on. ARGV: the entry's
# name without them, a fresh token, the versions' time to live. A missing
# generation or version (or one of an earlier server) gets the fresh token.
LOOKUP = (
    BOOT
    + """
local generation = redis.call('GET', KEYS[1])
if not generation or string.sub(generation, 1, #boot) ~= boot then
    generation = boot .. ':' .. ARGV[2]
    redis.call('SET', KEYS[1], generation)
end
local parts = {ARGV[1], generation}
for i = 2, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version then
        version = ARGV[2]
        redis.call('SET', KEYS[i], version, 'EX', ARGV[3])
    end
    parts[#parts + 1] = version
end
local entry = table.concat(parts, ':')
return {entry, redis.call('GET', entry)}
"""
)
# Every entry (and every fill in flight) stops counting at once.
RENEW = BOOT + "redis.call('SET', KEYS[1], boot .. ':' .. ARGV[1])\nreturn 1\n"
# Versions outlive entries, so an entry never outlives what it was read from.
VERSION_TTL_FACTOR = 4
# The background retry after a lost invalidation never spins faster than this.
MIN_RENEW_INTERVAL = 0.1


def new_token() -> str:
    """Unique, not secret: a generation or version that came back would revive entries."""
    return f"{random.getrandbits(64):016x}"


class RedisCache:
    """The `Cache` of `caching`, in Redis."""

    def __init__(
        self, redis: Redis, *, prefix: str, ttl: int, guard: FailOpen, call_timeout: float
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.guard = guard
        self.call_timeout = call_timeout
        self.generation_key = f"{prefix}generation"
        # Invalidations lost so far, and how many of them a new generation has covered.
        self.lost = 0
        self.covered = 0
        self._renewing = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        self._lookup = redis.register_script(LOOKUP)
        self._renew = redis.register_script(RENEW)

    def version(self, resource: str, row: int | None = None) -> str:
        return f"{self.prefix}v:{resource}" if row is None else f"{self.prefix}v:{resource}:{row}"

    async def read_through(self, key: CacheKey, load: Load) -> tuple[bytes | None, Source]:
        versions = [self.version(name) for name in key.collections]
        if key.row is not None:
            versions.append(self.version(key.resource, key.row))
        name = f"{self.prefix}e:{key.resource}:{key.shape}:{key.entry}"
        lost = self.lost
        entry: bytes | None = None
        if await self.usable():
            try:
                async with asyncio.timeout(self.call_timeout):
                    entry, body = await self._lookup(
                        keys=[self.generation_key, *versions],
                        args=[name, new_token(), self.ttl * VERSION_TTL_FACTOR],
                    )
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("read", error)
            else:
                if body is not None:
                    return body, "hit"
        body = await load()
        # A write of this process that lost its invalidation meanwhile may be missing from body.
        if body is not None and entry is not None and lost == self.lost:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.set(entry, body, ex=self.ttl)
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("fill", error)
        return body, "miss"

    async def changed(self, resource: str, row: int | None = None) -> None:
        versions = [self.version(resource)]
        if row is not None:
            versions.append(self.version(resource, row))
        if await self.usable():
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.redis.delete(*versions)
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("invalidate", error)
            else:
                return
        self.invalidation_lost()

    @property
    def renewal_pending(self) -> bool:
        """An invalidation was lost and no new generation covers it yet: serve no entry."""
        return self.covered != self.lost

    async def usable(self) -> bool:
        """Whether Redis may be read: it is up, and no entry can predate a lost invalidation."""
        return self.guard.available() and await self.renew_if_needed()

    async def renew_if_needed(self) -> bool:
        """Start a new generation if an invalidation was lost; False if Redis refused."""
        if not self.renewal_pending:
            return True
        async with self._renewing:
            lost = self.lost
            if self.covered == lost:
                return True
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self._renew(keys=[self.generation_key], args=[new_token()])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("new generation", error)
                return False
            self.covered = lost
        logger.info("Cache generation renewed after %d lost invalidation(s)", lost)
        return True

    def invalidation_lost(self) -> None:
        """Renew the generation as soon as Redis answers, even if no request comes."""
        self.lost += 1
        if self._retry is None or self._retry.done():
            self._retry = asyncio.create_task(self._renew_in_background())

    async def _renew_in_background(self) -> None:
        interval = max(self.guard.retry_after, MIN_RENEW_INTERVAL)
        while True:
            await asyncio.sleep(interval)
            if await self.renew_if_needed():
                return

    async def aclose(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
