import asyncio
import re
import sys
import threading
from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from prometheus_client import REGISTRY

from {{ cookiecutter.__package_name }}.middleware.metrics import BUCKETS, TALLY, flushing

from tests.conftest import ClientFactory

ROUTE = {"method": "GET", "route": "/api/v1/items/{item_id}", "status": "404"}


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in exposition.splitlines():
        match = re.fullmatch(re.escape(name) + r"\{(.*)\} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_requests_are_counted_by_route_template(client: AsyncClient) -> None:
    before = (await client.get("/metrics")).text

    await client.get("/api/v1/items/424242")
    await client.get("/api/v1/items/434343")
    metrics = (await client.get("/metrics")).text

    def added(name: str, **labels: str) -> float:
        return sample(metrics, name, **ROUTE, **labels) - sample(before, name, **ROUTE, **labels)

    assert added("http_requests_total") == 2
    assert added("http_request_duration_seconds_count") == 2
    assert added("http_request_duration_seconds_bucket", le="+Inf") == 2
    assert added("http_request_duration_seconds_sum") > 0
    # Buckets are cumulative, as if every request had been observed on its own.
    cumulative = [
        sample(metrics, "http_request_duration_seconds_bucket", **ROUTE, le=str(float(bound)))
        for bound in BUCKETS
    ]
    assert cumulative == sorted(cumulative)
    assert cumulative[-1] == sample(
        metrics, "http_request_duration_seconds_bucket", **ROUTE, le="+Inf"
    )
    # The path itself, not its digits: those may occur in any sample's value.
    assert "/api/v1/items/424242" not in metrics
    assert "http_requests_in_flight" in metrics


async def test_the_tally_reaches_prometheus_without_a_scrape() -> None:
    """With METRICS_PORT another process serves the samples: the app writes them on its own."""
    labels = {"method": "GET", "route": "<unmatched>", "status": "418"}
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0.0
    TALLY.started()
    TALLY.finished({"method": "GET", "route": None}, 418, 0.003)

    async with flushing(interval=0.01):
        TALLY.started()
        TALLY.finished({"method": "GET", "route": None}, 418, 0.003)
        await asyncio.sleep(0.1)
        during = REGISTRY.get_sample_value("http_requests_total", labels)

    assert during == before + 2


async def test_unmatched_paths_share_one_label(client: AsyncClient) -> None:
    await client.get("/random/path/123")

    metrics = (await client.get("/metrics")).text

    assert sample(metrics, "http_requests_total", route="<unmatched>", status="404") >= 1
    assert "/random/path" not in metrics


async def test_metrics_can_be_turned_off(client_for: ClientFactory) -> None:
    async with client_for(metrics_enabled=False) as client:
        assert (await client.get("/metrics")).status_code == 404


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads take turns every microsecond, so that a race shows within a test's time."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_no_request_is_lost_when_apps_in_other_threads_record_and_flush() -> None:
    """A test client or live server runs its app in a thread of its own, beside others."""
    labels = {"method": "GET", "route": "<unmatched>", "status": "419"}
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0.0
    requests, threads = 5_000, 4
    done = threading.Event()

    def serve() -> None:
        for _ in range(requests):
            TALLY.started()
            TALLY.finished({"method": "GET", "route": None}, 419, 0.002)

    def flush_until_done() -> None:
        while not done.is_set():
            TALLY.flush()

    flusher = threading.Thread(target=flush_until_done)
    flusher.start()
    servers = [threading.Thread(target=serve) for _ in range(threads)]
    for thread in servers:
        thread.start()
    for thread in servers:
        thread.join()
    done.set()
    flusher.join()
    TALLY.flush()

    after = REGISTRY.get_sample_value("http_requests_total", labels)
    assert after == before + requests * threads
    assert REGISTRY.get_sample_value("http_requests_in_flight", {}) == 0
