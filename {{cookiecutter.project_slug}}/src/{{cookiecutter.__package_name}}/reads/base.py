"""What every driver's reader shares: the columns, the error and fair turns."""

import asyncio
from collections import deque
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
    """At most `size` reads at once; the others wait in the order they came, for at
    most `timeout` seconds.

    A connection pool's waiting line is typically an `asyncio.Queue`, which is not
    fair: a read that arrives just as a connection comes back takes it from the one
    woken to take it, and that one goes to the back of the line again. Under load a
    few reads waited behind hundreds of others (p99 ten times p50 at 64 connections).
    Here a returned turn goes to the oldest waiter, and a reader holding a turn
    always finds a connection.

    Waiters are in arrival order, so their deadlines are too: one timer, set for the
    oldest waiter, expires everyone due (a timer per wait, as `asyncio.timeout` sets,
    cost more than the rest of the line's bookkeeping).
    """

    def __init__(self, size: int, timeout: float) -> None:
        self.free = size
        self.timeout = timeout
        self.waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> None:
        if self.free and not self.waiting:
            self.free -= 1
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self.waiting.append((loop.time() + self.timeout, turn))
        if self.timer is None:
            self.timer = loop.call_at(self.waiting[0][0], self._expire)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._hand_on()  # given a turn just as it was cancelled: pass it on
            raise

    async def __aexit__(self, *_exc_info: object) -> None:
        self._hand_on()

    def _hand_on(self) -> None:
        while self.waiting:
            _deadline, turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1

    def _expire(self) -> None:
        now = asyncio.get_running_loop().time()
        while self.waiting and self.waiting[0][0] <= now:
            _deadline, turn = self.waiting.popleft()
            if not turn.done():
                turn.set_exception(DatabaseUnavailable("No read connection came free in time"))
        self.timer = None
        if self.waiting:
            self.timer = asyncio.get_running_loop().call_at(self.waiting[0][0], self._expire)
