"""The middleware stack, in one place and one order.

Outermost first (a request passes them top to bottom, a response bottom to top):

{% set n = namespace(step=1) %}
1. EdgeMiddleware: request id, `X-Process-Time`, security headers, the access log,
   metrics (probes excepted), 413/408 for bodies over MAX_REQUEST_BODY_BYTES or that
   stall, a clean 500 for crashes; it answers `/health` itself.
{% if cookiecutter.use_cors %}
{% set n.step = n.step + 1 %}
{{ n.step }}. CORSMiddleware: answers preflight requests before any work is done (if CORS_ORIGINS).
{% endif %}
{% if cookiecutter.use_gzip %}
{% set n.step = n.step + 1 %}
{{ n.step }}. GZipMiddleware: compresses large bodies for clients that accept gzip.
{% endif %}
{% if cookiecutter.use_redis %}
{% set n.step = n.step + 1 %}
{{ n.step }}. RedisFront: the rate limit (if RATE_LIMIT_ENABLED) and cached reads, answered
   in one Redis round trip before FastAPI routes the request.
{% endif %}
"""

from fastapi import FastAPI
{% if cookiecutter.use_cors %}
from starlette.middleware.cors import CORSMiddleware
{% endif %}

{% if cookiecutter.use_redis %}
from ..cache.front import RedisFront
{% endif %}
from ..core.config import Settings
from .edge import EdgeMiddleware
{% if cookiecutter.use_gzip %}
from .gzip import GZipMiddleware
{% endif %}


def install_middleware(app: FastAPI, settings: Settings) -> None:
    # `add_middleware` wraps what is already there, so add innermost first.
{% if cookiecutter.use_redis %}
    app.add_middleware(RedisFront, settings=settings)
{% endif %}
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
            expose_headers=["X-Request-ID", "X-Process-Time"],
            max_age=600,
        )
{% endif %}
    app.add_middleware(EdgeMiddleware, settings=settings)
