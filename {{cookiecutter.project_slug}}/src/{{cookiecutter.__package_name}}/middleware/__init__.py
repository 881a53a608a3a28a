"""The middleware stack, in one place and one order.

Outermost first (a request passes them top to bottom, a response bottom to top):

1. RequestContextMiddleware: request id, `X-Process-Time`, clean 500 for crashes,
   so everything below logs with the id and no error escapes as a bare 500.
2. MetricsMiddleware: counts and times every answered request (if METRICS_ENABLED).
{% if cookiecutter.use_cors %}
3. CORSMiddleware: answers preflight requests before any work is done.
{% endif %}
{% if cookiecutter.use_gzip %}
{{ "4" if cookiecutter.use_cors else "3" }}. GZipMiddleware: compresses large bodies for clients that accept gzip.
{% endif %}
"""

from fastapi import FastAPI
{% if cookiecutter.use_cors %}
from starlette.middleware.cors import CORSMiddleware
{% endif %}

from ..core.config import Settings
{% if cookiecutter.use_gzip %}
from .gzip import GZipMiddleware
{% endif %}
from .metrics import MetricsMiddleware
from .request_context import RequestContextMiddleware


def install_middleware(app: FastAPI, settings: Settings) -> None:
    # `add_middleware` wraps what is already there, so add innermost first.
{% if cookiecutter.use_gzip %}
    app.add_middleware(
        GZipMiddleware,
        minimum_size=settings.gzip_minimum_size,
        compresslevel=settings.gzip_level,
    )
{% endif %}
{% if cookiecutter.use_cors %}
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=settings.cors_allow_methods,
        allow_headers=settings.cors_allow_headers,
        allow_credentials=settings.cors_allow_credentials,
        expose_headers=["X-Request-ID", "X-Process-Time"],
        max_age=600,
    )
{% endif %}
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
