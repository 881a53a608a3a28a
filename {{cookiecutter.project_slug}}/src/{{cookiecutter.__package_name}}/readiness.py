"""Whether the services the app needs answer, asked at most once a second per worker.

`/ready` is called every few seconds by every load balancer and orchestrator, and
by anyone who can reach it: the checks behind it (a database round trip, a new
connection to the broker) run once per READY_CACHE_SECONDS, however many calls
come meanwhile, and calls that arrive while they run wait for the same answer.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

# A readiness check: returns when its service answers, raises when it does not.
Check = Callable[[], Awaitable[object]]
Outcome = Literal["ok", "failing"]

CHECK_TIMEOUT_SECONDS = 2.0
READY_CACHE_SECONDS = 1.0


async def outcome(check: Check) -> Outcome:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except Exception:
        return "failing"
    return "ok"


class Readiness:
    def __init__(self, checks: Mapping[str, Check]) -> None:
        self.checks = dict(checks)
        self.checked_at = float("-inf")
        self.last: dict[str, Outcome] = {}
        self.checking = asyncio.Lock()

    async def report(self) -> dict[str, Outcome]:
        """Each check's outcome, by name, at most READY_CACHE_SECONDS old."""
        async with self.checking:
            if time.monotonic() - self.checked_at >= READY_CACHE_SECONDS:
                outcomes = await asyncio.gather(*map(outcome, self.checks.values()))
                self.last = dict(zip(self.checks, outcomes, strict=True))
                self.checked_at = time.monotonic()
            return self.last
