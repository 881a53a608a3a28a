"""Prometheus metrics per route template, method and status.

Labels use the route's path template (`/api/v1/items/{item_id}`), never the raw
path, so the number of series stays bounded whatever clients request. With
several worker processes, set PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py)
and every worker's samples are summed at `/metrics`.

Requests are tallied in plain numbers and written to the Prometheus values once
a second (and before each scrape this process answers). A multiprocess value
takes a lock, asks the kernel for the process id and writes a memory-mapped file
on every change: five such writes per request were the largest cost of the
middleware. A scrape may therefore miss the last second of another worker's requests.
"""

import asyncio
import threading
from bisect import bisect_left
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import Scope

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
FLUSH_INTERVAL_SECONDS = 1.0

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=BUCKETS,
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being answered.",
    multiprocess_mode="livesum",
)
UNMATCHED = "<unmatched>"

SeriesKey = tuple[str, str, int]


class Series:
    """One label set's requests since the last flush."""

    __slots__ = ("count", "per_bucket", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        # Observations per bucket (the first bound at or above each), +Inf last.
        self.per_bucket = [0] * (len(BUCKETS) + 1)


class Tally:
    """This process's requests, shared by every app in it.

    A lock, because apps may run in threads of their own (a test client, a live
    server in tests): uncontended it costs a fraction of a microsecond.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.pending: dict[SeriesKey, Series] = {}

    def started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def finished(self, scope: Scope, status: int, elapsed: float) -> None:
        key = (scope["method"], route_template(scope), status)
        bucket = bisect_left(BUCKETS, elapsed)
        with self.lock:
            self.in_flight -= 1
            series = self.pending.get(key)
            if series is None:
                series = self.pending[key] = Series()
            series.count += 1
            series.seconds += elapsed
            series.per_bucket[bucket] += 1

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
            in_flight = self.in_flight
        for (method, route, status), series in pending.items():
            labels = (method, route, str(status))
            REQUESTS.labels(*labels).inc(series.count)
            write_observations(LATENCY.labels(*labels), series)
        IN_FLIGHT.set(in_flight)


def write_observations(histogram: Histogram, series: Series) -> None:
    """What `observe()` would have written for each of the series' requests.

    The client has no public call for many observations at once; its histogram keeps
    a sum and one value per bucket (not cumulative), which are added to here.
    """
    histogram._sum.inc(series.seconds)
    for bucket, observations in zip(histogram._buckets, series.per_bucket, strict=True):
        if observations:
            bucket.inc(observations)


TALLY = Tally()


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path: str | None = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or UNMATCHED


@asynccontextmanager
async def flushing(interval: float = FLUSH_INTERVAL_SECONDS) -> AsyncIterator[None]:
    """Write the tally every `interval` seconds while the app runs, and once at the end."""

    async def flush_now_and_then() -> None:
        while True:
            await asyncio.sleep(interval)
            TALLY.flush()

    task = asyncio.create_task(flush_now_and_then())
    try:
        yield
    finally:
        task.cancel()
        TALLY.flush()
