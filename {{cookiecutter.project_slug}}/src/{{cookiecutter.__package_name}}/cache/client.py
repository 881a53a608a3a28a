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

from ..core.config import Settings

logger = logging.getLogger(__name__)

# Errors that mean "this call to Redis did not work", as opposed to a bug in the caller.
REDIS_UNAVAILABLE = (RedisError, OSError, TimeoutError)


def create_redis(settings: Settings) -> Redis:
    """One pool per worker process; connections are opened lazily on first use.

    Every caller bounds its call (`asyncio.timeout(REDIS_SOCKET_TIMEOUT)`), the wait
    for a free connection and for the reply together, so a busy pool gives up a
    call, never the server. redis-py itself only bounds connecting (by
    REDIS_CONNECT_TIMEOUT): the one timeout it raises means Redis cannot be reached.
    """
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=None,
        socket_timeout=None,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def is_outage(error: BaseException) -> bool:
    """Whether the error says Redis is unusable, rather than busy or slow to answer.

    A call that ran out of its own time (the builtin `TimeoutError`) waited for a
    connection or a reply; what redis-py raises, a connect timeout among it, means
    Redis could not be used: a host that is gone drops connection attempts rather
    than refusing them.
    """
    return isinstance(error, RedisError) or not isinstance(error, TimeoutError)


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
