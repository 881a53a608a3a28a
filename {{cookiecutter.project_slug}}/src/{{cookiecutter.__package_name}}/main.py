"""The application factory; `app` is what the server imports."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import {% if cookiecutter.use_redis %}Depends, {% endif %}FastAPI
from fastapi_offline import FastAPIOffline

from .api.errors import API_ERRORS, install_error_handlers
from .api.routes import categories, health, items, metrics
{% if cookiecutter.auth == "oauth2" %}
from .auth import routes as auth
from .auth.openapi import install_openapi
{% endif %}
{% if cookiecutter.use_redis %}
from .cache.rate_limit import RATE_LIMITED, rate_limit
{% endif %}
from .core.config import Settings, get_settings
from .core.logging import configure_logging
{% if cookiecutter.use_celery %}
from .jobs import routes as jobs
{% endif %}
from .middleware import install_middleware
from .services import open_services
from .tracing import TELEMETRY, trace_app, tracing_wanted

logger = logging.getLogger(__name__)

# The API's resources (one line each), included straight into the app: every level
# of router nesting is work on each request.
RESOURCE_ROUTERS = [
    items.router,
    categories.router,
{% if cookiecutter.use_celery %}
    jobs.router,
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
    auth.router,
{% endif %}
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(
        settings.log_level, settings.log_format_in_effect, access_log=settings.access_log_in_effect
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            # What start-up built lives as long as the process: keep the garbage
            # collector from scanning it again at every collection.
            gc.freeze()
            yield
        logger.info("Pools closed")

    options: dict[str, Any] = {
        "title": settings.app_name,
        "version": version("{{ cookiecutter.project_slug }}"),
        "lifespan": lifespan,
        "debug": settings.debug,
        # A path with a trailing slash it does not have is a 404, not a redirect: the
        # redirect's absolute URL would carry whatever `Host` the client sent.
        "redirect_slashes": False,
        "telemetry": TELEMETRY,
    }
    if settings.docs_in_effect:
        # /docs with Swagger UI's files served by the service itself (fastapi-offline),
        # so it works without the internet; the online validator badge is off too.
        app = FastAPIOffline(
            docs_url="/docs",
            redoc_url=None,
            swagger_ui_parameters={"validatorUrl": None},
            **options,
        )
    else:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, **options)
    install_error_handlers(app, settings)
    install_middleware(app, settings)
    for router in RESOURCE_ROUTERS:
        app.include_router(
            router,
            # Bodies read past this are a 413 (`middleware.request_body` refuses larger
            # declared ones before routing, with the service's error body).
            max_body_size=settings.max_request_body_bytes,
{% if cookiecutter.use_redis %}
            responses={**API_ERRORS, **RATE_LIMITED},
            # Counted before anything else the route does.
            dependencies=[Depends(rate_limit)],
{% else %}
            responses=API_ERRORS,
{% endif %}
        )
    app.include_router(health.router)
    if settings.metrics_enabled and settings.metrics_port is None:
        app.include_router(metrics.router)
{% if cookiecutter.auth == "oauth2" %}
    install_openapi(app, settings)
{% endif %}
    if tracing_wanted():
        trace_app()
    return app


app = create_app()
