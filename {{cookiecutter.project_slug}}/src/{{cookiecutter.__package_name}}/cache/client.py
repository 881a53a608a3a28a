"""The Redis pool, and the fail-open guard every Redis caller goes through.

Redis only makes the service faster; it is never needed for a correct answer.
When it cannot be reached, callers skip it for a short while and use the
database, and the failure is logged once per interval instead of once per request.

Only a failure to reach Redis does that. A busy pool or a late reply is what a
loaded worker sees from a healthy Redis: that one call is given up, and the
next request uses Redis again. Switching Redis off for everyone on such a
failure would turn one client's burst into an unlimited, uncached service.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..core.config import Settings

logger = logging.getLogger(__name__)

# Errors that mean "this call to Redis did not work", as opposed to a bug in the caller.
REDIS_UNAVAILABLE = (RedisError, OSError, TimeoutError)


class PoolBusy(RedisError):
    """Every connection stayed in use for the whole REDIS_POOL_TIMEOUT."""


class ConnectFailed(RedisConnectionError):
    """No connection could be opened in time, so the server is not there for us."""


class QueueingPool(BlockingConnectionPool):
    """Tells a wait for a free connection apart from a failure to open one.

    redis-py reports both as connection errors; only the second means Redis is down.
    """

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        try:
            # redis-py leaves this method unannotated.
            connection: AbstractConnection = await super().get_connection(  # type: ignore[no-untyped-call]
                *args, **kwargs
            )
        except RedisConnectionError as error:
            if isinstance(error.__cause__, TimeoutError):
                raise PoolBusy(f"no free Redis connection within {self.timeout}s") from error
            raise
        except RedisTimeoutError as error:
            raise ConnectFailed(str(error)) from error
        return connection


def create_redis(settings: Settings) -> Redis:
    """One pool per worker process; connections are opened lazily on first use."""
    pool = QueueingPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


async def run_script(
    redis: Redis, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]
) -> Any:
    """`script(keys, args)` for the hottest path: one pooled connection, one EVALSHA.

    The client's command layer (retries, observability hooks, packing each argument
    in Python) cost more than Redis's answer; hiredis packs the command in C. A
    failed call is not retried: its caller serves the request without Redis. A
    server that does not know the script yet gets it through the client's path.
    """
    pool = redis.connection_pool
    connection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        await connection.send_packed_command(hiredis.pack_command(command))  # type: ignore[arg-type]
        return await connection.read_response()
    except NoScriptError:
        pass
    except BaseException:
        # Cut off mid-reply, the connection's next reader would get this one's answer.
        await connection.disconnect()
        raise
    finally:
        await pool.release(connection)
    return await script(keys, args, client=redis)


def is_outage(error: BaseException) -> bool:
    """Whether the error says Redis is unusable, rather than busy or slow to answer."""
    return not isinstance(error, PoolBusy | RedisTimeoutError | TimeoutError)


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
