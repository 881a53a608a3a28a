"""What a worker process opens when it starts and closes when it stops, in one typed place.

The lifespan (`main.create_app`) enters `open_services` and keeps the result on
`app.state.services`; dependencies (`api.deps`) hand out its parts. Nothing
connects at import time: pools belong to the process that serves.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

{% if cookiecutter.auth == "oauth2" %}
from .auth import Auth, open_auth
{% endif %}
{% if cookiecutter.use_redis %}
from .cache import open_redis
from .cache.rate_limit import RateLimiter
{% endif %}
from .caching import Cache, NoCache
from .core.config import Settings
from .db import Database, open_database
{% if cookiecutter.use_celery %}
from .jobs.enqueue import ping_broker
{% endif %}
from .readiness import Check, Readiness


@dataclass(frozen=True)
class Store:
    """Where resources are kept: the database, the cache in front of it, and how long
    clients may keep what they read (HTTP_CACHE_CONTROL)."""

    database: Database
    cache: Cache
    cache_control: str


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    # For `/ready`: the service cannot serve without `database`, only more slowly or with
    # less without the others.
    readiness: Readiness
{% if cookiecutter.use_redis %}
    rate_limiter: RateLimiter | None
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
    auth: Auth
{% endif %}


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Everything is closed in reverse order when the server stops."""
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(open_database(settings))
        cache: Cache = NoCache()
        checks: dict[str, Check] = {"database": database.ping}
{% if cookiecutter.use_redis %}
        redis = await stack.enter_async_context(open_redis(settings))
        cache = redis.cache
        checks["redis"] = redis.redis.ping
{% endif %}
{% if cookiecutter.use_celery %}
        checks["broker"] = ping_broker
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
        auth = await stack.enter_async_context(open_auth(settings, database{% if cookiecutter.use_redis %}, redis.counters{% endif %}))
{% endif %}
        yield Services(
            settings=settings,
            store=Store(database, cache, settings.http_cache_control),
            readiness=Readiness(checks),
{% if cookiecutter.use_redis %}
            rate_limiter=redis.rate_limiter,
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
            auth=auth,
{% endif %}
        )
