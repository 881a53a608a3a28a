"""The application factory; `app` is what the server imports."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from .api.errors import install_error_handlers
from .api.router import api_router
from .api.routes import health, metrics
from .core.config import Settings, get_settings
from .core.db import create_engine, create_sessionmaker
from .core.logging import configure_logging
from .middleware import install_middleware


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format_in_effect)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Pools open once per worker process here, never at import time.
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title=settings.app_name,
        version=version("{{ cookiecutter.project_slug }}"),
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_middleware(app, settings)
    app.include_router(health.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    app.include_router(api_router)
    return app


app = create_app()
