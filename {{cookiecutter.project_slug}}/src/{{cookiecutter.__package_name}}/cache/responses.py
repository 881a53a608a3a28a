"""A read-through cache of response bodies in Redis that a write never leaves stale.

Keys (all under REDIS_KEY_PREFIX):
- `item:<id>`: a hash holding the JSON of one item (field `body`);
- `items`: a hash holding one field per list page (`<limit>:<offset>`);
- `<key>:v`: the key's version, a random token replaced by every write.

A miss loads from the database and stores the result only if the version has not
changed since the miss: a reader that loaded old data while a write committed
cannot put it back after the write's invalidation. Writes invalidate after their
commit. Every entry expires after CACHE_TTL_SECONDS, which bounds staleness when
an invalidation is lost because Redis was unreachable at that moment.
"""

from uuid import uuid4

from redis.asyncio import Redis

from ..api.caching import Load, Served
from .client import REDIS_UNAVAILABLE, FailOpen

# One round trip for a lookup: the cached body (or nil) and the current version.
READ = """
return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('GET', KEYS[2])}
"""
# Store only if no write happened since the miss (same version token, or still none).
FILL = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[3] then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[4], 'NX')
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
# Versions outlive entries, so a fill can never match a version that expired meanwhile.
VERSION_TTL_FACTOR = 4


HIT = {"X-Cache": "hit"}
MISS = {"X-Cache": "miss"}


class RedisResponseCache:
    """The `ResponseCache` of `api.caching`, in Redis."""

    def __init__(self, redis: Redis, *, prefix: str, ttl: int, guard: FailOpen) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.guard = guard
        self._read = redis.register_script(READ)
        self._fill = redis.register_script(FILL)
        self._invalidate = redis.register_script(INVALIDATE)

    def item_key(self, item_id: int) -> tuple[str, str]:
        return f"{self.prefix}item:{item_id}", "body"

    def page_key(self, limit: int, offset: int) -> tuple[str, str]:
        return f"{self.prefix}items", f"{limit}:{offset}"

    async def read_item(self, item_id: int, load: Load) -> Served:
        body, hit = await self.read_through(self.item_key(item_id), load)
        return body, HIT if hit else MISS

    async def read_page(self, limit: int, offset: int, load: Load) -> Served:
        body, hit = await self.read_through(self.page_key(limit, offset), load)
        return body, HIT if hit else MISS

    async def read_through(self, key: tuple[str, str], load: Load) -> tuple[bytes, bool]:
        """The cached body and True, or the loaded body and False."""
        name, field = key
        version = ""
        if self.guard.available():
            try:
                body, stored_version = await self._read(keys=[name, f"{name}:v"], args=[field])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("read", error)
            else:
                if body is not None:
                    return body, True
                version = stored_version or ""
        body = await load()
        if self.guard.available():
            try:
                await self._fill(keys=[name, f"{name}:v"], args=[field, body, version, self.ttl])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("fill", error)
        return body, False

    async def invalidate(self, *keys: tuple[str, str]) -> None:
        names = []
        for name, _field in keys:
            names += [name, f"{name}:v"]
        try:
            await self._invalidate(keys=names, args=[uuid4().hex, self.ttl * VERSION_TTL_FACTOR])
        except REDIS_UNAVAILABLE as error:
            self.guard.failed("invalidate", error)

    async def item_added(self) -> None:
        """Every list page (they share one hash)."""
        await self.invalidate(self.page_key(0, 0))

    async def item_changed(self, item_id: int) -> None:
        """The item's entry and every list page."""
        await self.invalidate(self.item_key(item_id), self.page_key(0, 0))
