"""Prometheus metrics per route template, method and status.

Labels use the route's path template (`/api/v1/items/{item_id}`), never the raw
path, so the number of series stays bounded whatever clients request. With
several worker processes, set PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py)
and every worker's samples are summed at `/metrics`.
"""

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import Scope

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
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being answered.",
    multiprocess_mode="livesum",
)
UNMATCHED = "<unmatched>"

# `labels()` validates and locks on every call; the few children in use are kept here.
_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path: str | None = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or UNMATCHED


def record(scope: Scope, status: int, elapsed: float) -> None:
    key = (scope["method"], route_template(scope), status)
    series = _series.get(key)
    if series is None:
        labels = (key[0], key[1], str(status))
        series = _series[key] = REQUESTS.labels(*labels), LATENCY.labels(*labels)
    count, latency = series
    count.inc()
    latency.observe(elapsed)
