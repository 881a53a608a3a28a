"""Prometheus scrape endpoint."""

import os

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.concurrency import run_in_threadpool

from ...middleware.metrics import TALLY

router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Samples of this process, or of every worker when PROMETHEUS_MULTIPROC_DIR is set.

    This process's tally is written first, in the event loop where requests add to
    it; reading the multiprocess files is blocking work for the thread pool.
    """
    TALLY.flush()
    return Response(await run_in_threadpool(samples), media_type=CONTENT_TYPE_LATEST)


def samples() -> bytes:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
