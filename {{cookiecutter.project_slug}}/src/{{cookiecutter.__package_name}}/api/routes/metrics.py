"""Prometheus scrape endpoint."""

import os

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
{% if cookiecutter.auth == "oauth2" %}

from ...auth.access import in_production
{% endif %}

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    include_in_schema=False,
{% if cookiecutter.auth == "oauth2" %}
    # Scrapers read it freely in development; in production they present `metrics:read`
    # (or read METRICS_PORT, off the application port).
    dependencies=[in_production("metrics:read")],
{% endif %}
)
def metrics() -> Response:
    """Samples of this process, or of every worker when PROMETHEUS_MULTIPROC_DIR is set.

    A plain `def`: reading the multiprocess files is blocking work for the thread pool.
    """
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
