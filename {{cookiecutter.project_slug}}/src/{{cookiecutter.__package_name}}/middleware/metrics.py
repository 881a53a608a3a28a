"""Prometheus metrics per route template, method and status.

Labels use the route's path template (`/api/v1/items/{item_id}`), never the raw
path, so the number of series stays bounded whatever clients request. With
several worker processes, set PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py)
and every worker's samples are summed at `/metrics`. Probes and scrapes are not
counted: they would drown the traffic that matters.
"""

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import PROBE_PATHS

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that answered (Starlette records it in the scope)."""
    route = scope.get("route")
    path: str | None = getattr(route, "path_format", None)
    return path or UNMATCHED


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            labels = (scope["method"], route_template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
