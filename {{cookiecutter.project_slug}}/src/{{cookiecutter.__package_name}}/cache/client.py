"""The Redis pool, and the fail-open guard every Redis caller goes through.

Redis only makes the service faster; it is never needed for a correct answer.
When it is down or slow, callers skip it for a short while and use the database,
and the failure is logged once per interval instead of once per request.
"""

import logging
import time

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from ..core.config import Settings

logger = logging.getLogger(__name__)

# Errors that mean "Redis is unavailable", as opposed to a bug in the caller.
REDIS_UNAVAILABLE = (RedisError, OSError, TimeoutError)


def create_redis(settings: Settings) -> Redis:
    """One pool per worker process; connections are opened lazily on first use."""
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_socket_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_socket_timeout,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


class FailOpen:
    """Remembers a recent Redis failure so callers can skip Redis until it may be back."""

    def __init__(self, retry_after: float, log_interval: float = 60.0) -> None:
        self.retry_after = retry_after
        self.log_interval = log_interval
        self.skip_until = 0.0
        self.last_logged = float("-inf")

    def available(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, action: str, error: BaseException) -> None:
        now = time.monotonic()
        self.skip_until = now + self.retry_after
        if now - self.last_logged >= self.log_interval:
            self.last_logged = now
            logger.warning("Redis unavailable (%s: %r); serving without it", action, error)
