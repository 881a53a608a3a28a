"""What every driver's reader shares: the columns, the error and fair turns."""

import asyncio
from typing import Any

from ..models import ItemRead

# A row as the driver returns it, read by column name.
Row = Any
# Built from the model's field names, never from input: nothing here can be injected.
# A field added to the model is read too.
COLUMNS = ", ".join(ItemRead.model_fields)


class DatabaseUnavailable(Exception):
    """A read could not reach the database; `api.errors` answers 503."""


class Turns:
    """At most `size` reads at once; the others wait in the order they came.

    A pool's own waiting line is an `asyncio.Queue`, which is not fair: a read that
    arrives just as a connection comes back takes it from the one woken to take it,
    and that one goes to the back of the line again. Under load a few reads waited
    behind hundreds of others (p99 ten times p50 at 64 connections). A semaphore
    serves waiters first come, first served, and the pool never has to make anyone wait.
    """

    def __init__(self, size: int, timeout: float) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.timeout = timeout

    async def __aenter__(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.semaphore.acquire()
        except TimeoutError as error:
            raise DatabaseUnavailable from error

    async def __aexit__(self, *_exc_info: object) -> None:
        self.semaphore.release()
