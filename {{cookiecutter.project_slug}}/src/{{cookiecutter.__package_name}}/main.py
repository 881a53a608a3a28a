"""The application factory; `app` is what the server imports."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from .api.errors import install_error_handlers
from .api.router import api_router
from .api.routes import health, metrics
{% if cookiecutter.use_redis %}
from .cache import ResponseCache
{% endif %}
from .core.config import Settings, get_settings
from .core.db import create_engine, create_sessionmaker
from .core.logging import configure_logging
{% if cookiecutter.use_redis %}
from .core.redis import FailOpen, create_redis
{% endif %}
from .middleware import install_middleware

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format_in_effect, settings.access_log)
{% if cookiecutter.use_redis %}
    # Shared by the cache and the rate limiter: one failure makes both skip Redis.
    redis_guard = FailOpen(settings.redis_retry_after_seconds)
{% endif %}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Pools open once per worker process here, never at import time.
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.reader_sessionmaker = create_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT")
        )
{% if cookiecutter.use_redis %}
        redis = create_redis(settings)
        app.state.redis = redis
        app.state.cache = ResponseCache(
            redis,
            prefix=settings.redis_key_prefix,
            ttl=settings.cache_ttl_seconds,
            guard=redis_guard,
        )
        try:
            yield
        finally:
            await redis.aclose(close_connection_pool=True)
            await engine.dispose()
            logger.info("Pools closed")
{% else %}
        try:
            yield
        finally:
            await engine.dispose()
            logger.info("Pools closed")
{% endif %}

    docs = settings.docs_in_effect
    app = FastAPI(
        title=settings.app_name,
        version=version("{{ cookiecutter.project_slug }}"),
        lifespan=lifespan,
        debug=settings.debug,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
{% if cookiecutter.use_redis %}
    install_middleware(app, settings, redis_guard)
{% else %}
    install_middleware(app, settings)
{% endif %}
    app.include_router(health.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    app.include_router(api_router)
    return app


app = create_app()
