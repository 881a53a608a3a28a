"""The middleware stack, in one place and one order.

Outermost first (a request passes them top to bottom, a response bottom to top):

{% set n = namespace(step=6) %}
0. Starlette's own: a clean 500 for a crash (see `api.errors`).
1. CorrelationIdMiddleware (asgi-correlation-id): the request id, from a sane
   `X-Request-ID` or new, on the response and on every log line of the request.
2. SecurityHeadersMiddleware: the fixed headers of every response.
3. ProbeMiddleware: answers `/health` (liveness) before anything else runs.
4. HeadMiddleware: HEAD goes on as its GET, and its answer loses the body.
5. MetricsMiddleware: Prometheus counts and latencies per route template.
6. RequestBodyMiddleware: a 413 for a body declared over MAX_REQUEST_BODY_BYTES, a 408
   for one not whole within REQUEST_BODY_TIMEOUT_SECONDS.
{% if cookiecutter.use_cors %}
{% set n.step = n.step + 1 %}
{{ n.step }}. CORSMiddleware (Starlette): preflights answered, headers for allowed origins (if CORS_ORIGINS).
{% endif %}
{% if cookiecutter.use_gzip %}
{% set n.step = n.step + 1 %}
{{ n.step }}. GZipMiddleware (Starlette): compresses large bodies for clients that accept gzip.
{% endif %}

Then FastAPI routes the request; the rate limit, authentication and the cache
are dependencies of the routes, so each route declares what it goes through,
and the API's routers count the body a route reads against MAX_REQUEST_BODY_BYTES
(FastAPI's `max_body_size`, for bodies sent without a length).
"""

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
{% if cookiecutter.use_cors %}
from starlette.middleware.cors import CORSMiddleware
{% endif %}
{% if cookiecutter.use_gzip %}
from starlette.middleware.gzip import GZipMiddleware
{% endif %}

from ..core.config import Settings
from ..core.logging import is_sane_request_id
from .head import HeadMiddleware
from .metrics import MetricsMiddleware
from .probes import ProbeMiddleware
from .request_body import RequestBodyMiddleware
from .security_headers import SecurityHeadersMiddleware


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
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=settings.cors_method_list,
            allow_headers=settings.cors_header_list,
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
{% endif %}
    app.add_middleware(
        RequestBodyMiddleware,
        max_bytes=settings.max_request_body_bytes,
        timeout=settings.request_body_timeout_seconds,
    )
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(ProbeMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, headers=settings.security_headers)
    app.add_middleware(
        CorrelationIdMiddleware,
        validator=is_sane_request_id,
        update_request_header=False,
    )
