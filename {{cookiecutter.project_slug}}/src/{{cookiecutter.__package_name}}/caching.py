"""The seam a response cache plugs into. Without one (`NoCache`) every read loads.

A cached read is answered inside its route, after every dependency the route
declares (authentication among them): a hit skips the database, never a check.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Literal, Protocol

# The body of a response, or None for "not found", which is never cached.
Load = Callable[[], Awaitable[bytes | None]]
# Where a body came from, for the `X-Cache` header; None without a cache.
Source = Literal["hit", "miss"] | None


@dataclass(frozen=True)
class CacheKey:
    """Where a response is kept, and which writes make it stale.

    `resource` is the space it lives in (a resource's plural), `shape` the version
    of the response's schema (a new field is a new key, never an old-shaped hit),
    and `entry` the request (`"7"`, `"page:20:0"`). A write to `row` of `resource`,
    or any write to one of `collections`, makes it stale.
    """

    resource: str
    shape: str
    entry: str
    row: int | None = None
    collections: tuple[str, ...] = ()


class CacheUnavailable(Exception):
    """The cache cannot be told of a write now: made anyway, the write could leave it
    answering with what the write replaced. The write must not happen."""


class Cache(Protocol):
    async def read_through(self, key: CacheKey, load: Load) -> tuple[bytes | None, Source]:
        """The stored body, or the loaded one (stored unless it is None)."""

    def changing(self, resource: str, row: int | None = None) -> AbstractAsyncContextManager[None]:
        """Around a write to `resource` (to `row` of it, or a new row): nothing read
        meanwhile is kept, and nothing kept before is served after. Raises
        `CacheUnavailable` on entering when that cannot be made sure of."""


class NoCache:
    async def read_through(self, key: CacheKey, load: Load) -> tuple[bytes | None, Source]:
        return await load(), None

    def changing(self, resource: str, row: int | None = None) -> AbstractAsyncContextManager[None]:
        return nullcontext()
