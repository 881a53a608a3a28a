"""The seam a response cache plugs into: reads of items, and the writes that change them.

Handlers go through `app.state.cache` without knowing whether a cache exists;
`NoCache` loads every time and has nothing to forget. A cached read returns the
body and the headers that say where it came from.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol

Load = Callable[[], Awaitable[bytes]]
Served = tuple[bytes, dict[str, str]]


class ResponseCache(Protocol):
    async def read_item(self, item_id: int, load: Load) -> Served: ...

    async def read_page(self, limit: int, offset: int, load: Load) -> Served: ...

    async def item_changed(self, item_id: int) -> None:
        """After an item was updated or deleted."""

    async def item_added(self) -> None:
        """After an item was created: list pages changed, no single item did."""


class NoCache:
    async def read_item(self, item_id: int, load: Load) -> Served:
        return await load(), {}

    async def read_page(self, limit: int, offset: int, load: Load) -> Served:
        return await load(), {}

    async def item_changed(self, item_id: int) -> None:
        return None

    async def item_added(self) -> None:
        return None
