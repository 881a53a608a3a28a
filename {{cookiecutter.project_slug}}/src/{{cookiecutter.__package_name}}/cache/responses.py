"""A read-through cache of response bodies in Redis that never answers with what a write replaced.

Keys, all under REDIS_KEY_PREFIX:
- `generation`: the run id of the Redis server, and a token;
- `v:<resource>` and `v:<resource>:<row>`: versions, random tokens that writes replace;
- `e:<resource>:<shape>:<entry>:<generation>:<versions>`: a response body;
- `n:<resource>:<shape>:<generation>:<versions>`: how many pages of it are kept.

An entry's name holds the generation and the versions of everything it was read
from. Before a write, its versions are replaced by a marker (`writing:<token>`):
the entries built on the old versions are never looked up again, and while the
marker stands, reads of what the write touches are answered from the database and
not kept. After the write the marker goes, and the next read starts a new version.
The marker expires on its own after the longest a write can take, so a writer that
dies mid-write leaves nothing behind that could be served. A write whose marker
cannot be set (Redis is unreachable) is refused with `CacheUnavailable`: of the
two ways to never serve what a write replaced (this, or an outbox of invalidations
kept with the data), this one needs nothing from the database and no process to
replay anything, at the price of writes waiting for Redis to come back.

A Redis server that restarts and reloads a snapshot brings back entries that
writes since the snapshot had removed; its new run id makes all of them a miss.
`shape` changes with the response's schema, so a deploy that adds a field never
serves a body without it. At most CACHE_MAX_PAGES pages of a resource are kept
between two writes to it, so no client can fill Redis by asking for every
`limit` and `offset`.

The lookup is one Lua script, one round trip; the scripts build names from the
versions they read, so the cache needs one Redis server, not a cluster.
"""

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from ..caching import CacheKey, CacheUnavailable, Load, Source
from .client import REDIS_UNAVAILABLE, FailOpen

WRITING = "writing:"
# KEYS: the generation, then each version the entry depends on. ARGV: the entry's
# name without them, a fresh token, the versions' time to live, the page counter's
# name without them ("" for an entry that is no page). A missing generation or version
# (or one of an earlier server) gets the fresh token; a version a write has marked
# makes the read one that is not kept: no entry name is returned.
LOOKUP = """
local boot = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local generation = redis.call('GET', KEYS[1])
if not generation or string.sub(generation, 1, #boot) ~= boot then
    generation = boot .. ':' .. ARGV[2]
    redis.call('SET', KEYS[1], generation)
end
local versions = {generation}
for i = 2, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version then
        version = ARGV[2]
        redis.call('SET', KEYS[i], version, 'EX', ARGV[3])
    elseif string.sub(version, 1, 8) == 'writing:' then
        return {false, false, false}
    end
    versions[#versions + 1] = version
end
local suffix = table.concat(versions, ':')
local entry = ARGV[1] .. ':' .. suffix
local counter = false
if ARGV[4] ~= '' then
    counter = ARGV[4] .. ':' .. suffix
end
return {entry, redis.call('GET', entry), counter}
"""
# KEYS: the entry, and its page counter if it is a page. ARGV: the body, the time to
# live, the most pages kept. A page beyond the most is not kept.
FILL = """
if KEYS[2] then
    local kept = redis.call('INCR', KEYS[2])
    if kept == 1 then
        redis.call('EXPIRE', KEYS[2], ARGV[2])
    end
    if kept > tonumber(ARGV[3]) then
        return 0
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# KEYS: the versions a write touches. ARGV: its marker, how long it may stand (ms).
MARK = """
for i = 1, #KEYS do
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 1
"""
# KEYS: the versions the write touched. ARGV: its marker. Each goes, and the next read
# starts a new version, unless another write has marked it since: that one unmarks it.
UNMARK = """
for i = 1, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version or string.sub(version, 1, 8) ~= 'writing:' or version == ARGV[1] then
        redis.call('DEL', KEYS[i])
    end
end
return 1
"""
# Versions outlive entries, so an entry never outlives what it was read from.
VERSION_TTL_FACTOR = 4


def new_token() -> str:
    """Unique, not secret: a generation or version that came back would revive entries."""
    return f"{random.getrandbits(64):016x}"


class RedisCache:
    """The `Cache` of `caching`, in Redis."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        ttl: int,
        max_pages: int,
        longest_write: float,
        guard: FailOpen,
        call_timeout: float,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.max_pages = max_pages
        # A marker outlives the longest write, and the call that would have removed it.
        self.marker_ms = int((longest_write + call_timeout) * 1000)
        self.guard = guard
        self.call_timeout = call_timeout
        self.generation_key = f"{prefix}generation"
        self.lookup = redis.register_script(LOOKUP)
        self.fill = redis.register_script(FILL)
        self.mark = redis.register_script(MARK)
        self.unmark = redis.register_script(UNMARK)

    def version(self, resource: str, row: int | None = None) -> str:
        return f"{self.prefix}v:{resource}" if row is None else f"{self.prefix}v:{resource}:{row}"

    async def read_through(self, key: CacheKey, load: Load) -> tuple[bytes | None, Source]:
        versions = [self.version(name) for name in key.collections]
        if key.row is not None:
            versions.append(self.version(key.resource, key.row))
        name = f"{self.prefix}e:{key.resource}:{key.shape}:{key.entry}"
        pages = "" if key.row is not None else f"{self.prefix}n:{key.resource}:{key.shape}"
        entry: bytes | None = None
        counter: bytes | None = None
        if self.guard.available():
            try:
                async with asyncio.timeout(self.call_timeout):
                    entry, body, counter = await self.lookup(
                        keys=[self.generation_key, *versions],
                        args=[name, new_token(), self.ttl * VERSION_TTL_FACTOR, pages],
                    )
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("read", error)
            else:
                if body is not None:
                    return body, "hit"
        body = await load()
        if body is not None and entry is not None:
            try:
                async with asyncio.timeout(self.call_timeout):
                    keys = [entry] if counter is None else [entry, counter]
                    await self.fill(keys=keys, args=[body, self.ttl, self.max_pages])
            except REDIS_UNAVAILABLE as error:
                self.guard.failed("fill", error)
        return body, "miss"

    @asynccontextmanager
    async def changing(self, resource: str, row: int | None = None) -> AsyncIterator[None]:
        versions = [self.version(resource)]
        if row is not None:
            versions.append(self.version(resource, row))
        marker = f"{WRITING}{new_token()}"
        if not self.guard.available():
            raise CacheUnavailable("Redis was found unreachable moments ago")
        try:
            async with asyncio.timeout(self.call_timeout):
                await self.mark(keys=versions, args=[marker, self.marker_ms])
        except REDIS_UNAVAILABLE as error:
            self.guard.failed("mark a write", error)
            raise CacheUnavailable(repr(error)) from error
        try:
            yield
        finally:
            try:
                async with asyncio.timeout(self.call_timeout):
                    await self.unmark(keys=versions, args=[marker])
            except REDIS_UNAVAILABLE as error:
                # The marker expires on its own; until then, nothing of it is kept.
                self.guard.failed("unmark a write", error)
