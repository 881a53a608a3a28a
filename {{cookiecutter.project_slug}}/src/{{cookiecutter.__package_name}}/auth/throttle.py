"""Failed sign-ins, counted per account and per client address: a 429 past the limit.

Counted by `limits`, in the storage every worker and replica shares, where the
service has one (so they all count the same), else in this worker's memory: should
the shared storage be unreachable, each worker still counts on its own, never no
limit at all. A success clears the account's count.
"""

import math
import time

from fastapi import HTTPException, status
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from ..core.config import Settings

TOO_MANY_FAILURES = "Too many failed sign-ins; try again after Retry-After seconds"


class LoginThrottle:
    def __init__(self, settings: Settings, *shared: Storage) -> None:
        # This worker's own count, for when no shared storage can be reached.
        self.memory = MemoryStorage()
        self.limiters = [FixedWindowRateLimiter(storage) for storage in (*shared, self.memory)]
        window = settings.login_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_attempts_per_account, window)
        self.per_address = RateLimitItemPerSecond(settings.login_attempts_per_address, window)

    async def check(self, account: str, address: str) -> None:
        """A 429, with Retry-After, if either has no attempt left."""
        for item, key in ((self.per_account, account), (self.per_address, address)):
            for limiter in self.limiters:
                try:
                    if await limiter.test(item, key):
                        break
                    window = await limiter.get_window_stats(item, key)
                except StorageError:
                    continue
                retry_after = max(math.ceil(window.reset_time - time.time()), 1)
                headers = {"Retry-After": str(retry_after)}
                raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_FAILURES, headers)

    async def failed(self, account: str, address: str) -> None:
        for item, key in ((self.per_account, account), (self.per_address, address)):
            for limiter in self.limiters:
                try:
                    await limiter.hit(item, key)
                except StorageError:
                    continue
                break

    async def succeeded(self, account: str) -> None:
        for limiter in self.limiters:
            try:
                await limiter.clear(self.per_account, account)
            except StorageError:
                continue
            break
