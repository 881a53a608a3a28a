"""The middleware stack, in one place and one order.

Outermost first (a request passes them top to bottom, a response bottom to top):

{% set n = namespace(step=3) %}
1. RequestContextMiddleware: request id, `X-Process-Time`, security headers, the access log, clean
   500 for crashes, so everything below logs with the id and no error escapes bare.
2. MetricsMiddleware: counts and times requests, probes excepted (if METRICS_ENABLED).
3. BodyLimitMiddleware: 413 for bodies over MAX_REQUEST_BODY_BYTES, before they are read,
   and 408 for bodies that stall.
{% if cookiecutter.use_cors %}
{% set n.step = n.step + 1 %}
{{ n.step }}. CORSMiddleware: answers preflight requests before any work is done (if CORS_ORIGINS).
{% endif %}
{% if cookiecutter.use_redis %}
{% set n.step = n.step + 1 %}
{{ n.step }}. RateLimitMiddleware: a 429 for clients over their quota (if RATE_LIMIT_ENABLED).
{% endif %}
{% if cookiecutter.use_gzip %}
{% set n.step = n.step + 1 %}
{{ n.step }}. GZipMiddleware: compresses large bodies for clients that accept gzip.
{% endif %}
"""

from fastapi import FastAPI
{% if cookiecutter.use_cors %}
from starlette.middleware.cors import CORSMiddleware
{% endif %}

{% if cookiecutter.use_redis %}
from ..cache.rate_limit import RateLimitMiddleware
{% endif %}
from ..core.config import Settings
from .body_limit import BodyLimitMiddleware
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
{% if cookiecutter.use_redis %}
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limit=settings.rate_limit_requests,
            window=settings.rate_limit_window_seconds,
            prefix=settings.redis_key_prefix,
            trusted_hops=settings.rate_limit_trusted_hops,
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
            expose_headers=["X-Request-ID", "X-Process-Time"],
            max_age=600,
        )
{% endif %}
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        chunk_timeout=settings.request_body_timeout_seconds,
    )
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        extra_headers=settings.security_headers,
        access_log=settings.access_log_in_effect,
    )
