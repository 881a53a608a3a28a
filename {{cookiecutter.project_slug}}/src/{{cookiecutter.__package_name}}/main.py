"""The application factory; `app` is what the server imports.

Importing the service builds about a hundred thousand objects (modules, classes, the
routes' models), nearly all of which live as long as the process. The garbage collector
would scan them again and again as they pile up and free almost nothing, so it is paused
while they are built and resumes once they are frozen out of its way: a worker starts
about a fifth sooner.
"""

import gc

gc.disable()

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from .api.caching import NoCache
from .api.errors import install_error_handlers
from .api.router import include_api
from .api.routes import health, metrics
{% if cookiecutter.use_redis %}
from .cache import open_cache
{% endif %}
from .core.config import Settings, get_settings
from .core.db import Database
from .core.logging import configure_logging
from .middleware import install_middleware
from .middleware.metrics import flushing
from .reads import open_item_reader

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format_in_effect)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Pools belong to a worker process: they are set up here, never at import time
        # (the engine on first use, see `core.db.Database`), and close in reverse order
        # when the server stops. An option adds its resources to the stack.
        async with AsyncExitStack() as resources:
            resources.callback(logger.info, "Pools closed")
            if settings.metrics_enabled:
                await resources.enter_async_context(flushing())
            database = Database(settings)
            resources.push_async_callback(database.dispose)
            app.state.database = database
            app.state.item_reader = await resources.enter_async_context(open_item_reader(settings))
            app.state.cache = NoCache()
{% if cookiecutter.use_redis %}
            await resources.enter_async_context(open_cache(app.state, settings))
{% endif %}
            # What start-up built lives as long as the process: keep the garbage collector
            # from scanning it again on every collection (steadier tail latency).
            gc.freeze()
            yield

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
    install_middleware(app, settings)
    include_api(app)
    app.include_router(health.router)
    if settings.metrics_enabled and settings.metrics_port is None:
        app.include_router(metrics.router)
    return app


app = create_app()
# What the import built is frozen, as the docstring says; what requests allocate is collected.
gc.freeze()
gc.enable()
