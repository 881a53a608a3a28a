"""A read-through cache of response bodies in Redis that a write never leaves stale.

Keys (all under REDIS_KEY_PREFIX):
- `item:<id>`: a hash holding one item (field `entry`);
- `items`: a hash holding one field per list page (`entry:<limit>:<offset>`);
- `<key>:v`: the key's version, a random token replaced by every write;
- `generation`: `<run id of the Redis server>:<random token>`; every entry is
  the generation it was stored under followed by the JSON, and only entries of
  the current one are served. (Releases that stored the bare JSON used other
  field names, so neither release reads the other's entries during a rolling
  update, while both drop the same keys on writes.)

Hits are mostly answered by `front.RedisFront`, before routing, with the same
lookup (`LOOKUP`); whatever it does not answer comes here.

A miss loads from the database and stores the result only if neither the version
nor the generation changed since the miss: a reader that loaded old data while a
write committed cannot put it back after the write's invalidation. Writes
invalidate after their commit.

An invalidation can be lost: Redis was unreachable, or did not answer in time.
The process that lost it starts a new generation before it reads from Redis
again, and keeps trying in the background until it has, so the other processes
stop serving the old entries as soon as that succeeds. A Redis server that
restarts and reloads a snapshot brings back entries that writes since the
snapshot had removed; its new run id makes all of them a miss.
"""

import asyncio
import contextlib
import logging
import secrets

from redis.asyncio import Redis

from ..api.caching import Load, Served
from .client import REDIS_UNAVAILABLE, FailOpen

logger = logging.getLogger(__name__)

# The server's run id, which changes at every start: snapshots do not carry it over.
BOOT = "local boot = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')\n"
# A lookup of `field` in the hash `entry_key`: the generation and the version a fill will
# have to match, then the body when the entry belongs to this generation (else `body` is
# nil). No generation yet, or one left by an earlier server, starts a new one (`token`):
# nothing stored before it is trusted. A part of scripts, after BOOT, so the front's
# script can count the request in the same round trip.
LOOKUP = """
local generation = redis.call('GET', generation_key)
if not generation or string.sub(generation, 1, #boot) ~= boot then
    generation = boot .. ':' .. token
    redis.call('SET', generation_key, generation)
end
local version = redis.call('GET', version_key) or ''
local body = redis.call('HGET', entry_key, field)
if body and string.sub(body, 1, #generation) == generation then
    body = string.sub(body, #generation + 1)
else
    body = nil
end
"""
# A table ends at its first nil: the reply has the body only on a hit.
READ = (
    BOOT
    + """
local entry_key, version_key, generation_key = KEYS[1], KEYS[2], KEYS[3]
local field, token = ARGV[1], ARGV[2]
"""
    + LOOKUP
    + "return {generation, version, body}\n"
)
# Store only if nothing was invalidated since the miss: same generation, same version.
FILL = """
if redis.call('GET', KEYS[3]) == ARGV[4] and (redis.call('GET', KEYS[2]) or '') == ARGV[3] then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[4] .. ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[5], 'NX')
    return 1
end
return 0
"""
# Drop the entries and give each a new version, so in-flight fills are refused.
INVALIDATE = """
for i = 1, #KEYS, 2 do
    redis.call('DEL', KEYS[i])
    redis.call('SET', KEYS[i + 1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""
# Every entry (and every fill in flight) stops counting at once.
RENEW = (
    BOOT
    + """
redis.call('SET', KEYS[1], boot .. ':' .. ARGV[1])
return 1
"""
)
# Versions outlive entries, so a fill can never match a version that expired meanwhile.
VERSION_TTL_FACTOR = 4
# The background retry after a lost invalidation never spins faster than this.
MIN_RENEW_INTERVAL = 0.1

HIT = {"X-Cache": "hit"}
MISS = {"X-Cache": "miss"}


def new_token() -> str:
    # Fresh every time: a generation that came back would revive the entries stored under it.
    return secrets.token_hex(8)


class RedisResponseCache:
    """The `ResponseCache` of `api.caching`, in Redis."""

    def __init__(self, redis: Redis, *, prefix: str, ttl: int, guard: FailOpen) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.guard = guard
        self.generation_key = f"{prefix}generation"
        # Invalidations lost so far, and how many of them a new generation has covered.
        self.lost = 0
        self.covered = 0
        self._renewing = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        self._read = redis.register_script(READ)
        self._fill = redis.register_script(FILL)
        self._invalidate = redis.register_script(INVALIDATE)
        self._renew = redis.register_script(RENEW)

    def item_key(self, item_id: int) -> tuple[str, str]:
        return f"{self.prefix}item:{item_id}", "entry"

    def page_key(self, limit: int, offset: int) -> tuple[str, str]:
        return f"{self.prefix}items", f"entry:{limit}:{offset}"

    async def read_item(self, item_id: int, load: Load) -> Served:
        body, hit = await self.read_through(self.item_key(item_id), load)
        return body, HIT if hit else MISS

    async def read_page(self, limit: int, offset: int, load: Load) -> Served:
        body, hit = await self.read_through(self.page_key(limit, offset), load)
        return body, HIT if hit else MISS

    async def read_through(self, key: tuple[str, str], load: Load) -> tuple[bytes, bool]:
        """The cached body and True, or the loaded body and False."""
        name, field = key
        keys = [name, f"{name}:v", self.generation_key]
        lost = self.lost
        seen: tuple[bytes, bytes] | None = None
        if await self.usable():
            try:
                reply = await self._read(keys=keys, args=[field, new_token()])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("read", error)
            else:
                if len(reply) == 3:
                    return reply[2], True
                seen = reply[0], reply[1]
        body = await load()
        # A write of this process that lost its invalidation meanwhile may be missing from body.
        if seen is not None and lost == self.lost and self.guard.available():
            generation, version = seen
            try:
                await self._fill(keys=keys, args=[field, body, version, generation, self.ttl])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("fill", error)
        return body, False

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
                await self._renew(keys=[self.generation_key], args=[new_token()])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("new generation", error)
                return False
            self.covered = lost
        logger.info("Cache generation renewed after %d lost invalidation(s)", lost)
        return True

    async def invalidate(self, *keys: tuple[str, str]) -> None:
        names = []
        for name, _field in keys:
            names += [name, f"{name}:v"]
        version_ttl = self.ttl * VERSION_TTL_FACTOR
        if await self.usable():
            try:
                await self._invalidate(keys=names, args=[new_token(), version_ttl])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("invalidate", error)
            else:
                return
        self.invalidation_lost()

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

    async def item_added(self) -> None:
        """Every list page (they share one hash)."""
        await self.invalidate(self.page_key(0, 0))

    async def item_changed(self, item_id: int) -> None:
        """The item's entry and every list page."""
        await self.invalidate(self.item_key(item_id), self.page_key(0, 0))
