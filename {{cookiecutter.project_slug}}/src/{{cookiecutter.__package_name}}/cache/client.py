"""The Redis pool, and the fail-open guard every Redis caller goes through.

Redis only makes the service faster; it is never needed for a correct answer.
When it cannot be reached, callers skip it for a short while and use the
database, and the failure is logged once per interval instead of once per request.

Only a failure to reach Redis does that. A late reply, or a wait for a free
connection, is what a loaded worker sees from a healthy Redis: that one call is
given up (each call is bounded by REDIS_SOCKET_TIMEOUT), and the next request
uses Redis again. Switching Redis off for everyone on such a failure would turn
one client's burst into an unlimited, uncached service.
"""

import logging
import time

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..core.config import Settings

logger = logging.getLogger(__name__)

# Errors that mean "this call to Redis did not work", as opposed to a bug in the caller.
REDIS_UNAVAILABLE = (RedisError, OSError, TimeoutError)


def create_redis(settings: Settings) -> Redis:
    """One pool per worker process; connections are opened lazily on first use.

    A call waits for a free connection as long as its own time bound allows (the
    callers' `asyncio.timeout`), so a busy pool gives up a call, never the server.
    """
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=None,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def is_outage(error: BaseException) -> bool:
    """Whether the error says Redis is unusable, rather than busy or slow to answer."""
    return not isinstance(error, RedisTimeoutError | TimeoutError)


class FailOpen:
    """Remembers a recent Redis outage so callers can skip Redis until it may be back."""

    def __init__(self, retry_after: float, log_interval: float = 60.0) -> None:
        self.retry_after = retry_after
        self.log_interval = log_interval
        self.skip_until = 0.0
        self.last_logged = float("-inf")

    def available(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, action: str, error: BaseException) -> None:
        if not is_outage(error):
            logger.debug("Redis call given up (%s: %r); Redis stays in use", action, error)
            return
        now = time.monotonic()
        self.skip_until = now + self.retry_after
        if now - self.last_logged >= self.log_interval:
            self.last_logged = now
            logger.warning("Redis unavailable (%s: %r); serving without it", action, error)
