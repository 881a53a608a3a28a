"""Prometheus metrics: requests by route template, method and status; probes never counted."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from httpx import AsyncClient
from prometheus_client import REGISTRY

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.middleware.metrics import UNMATCHED

from tests.conftest import ClientFactory, environment_of

ROUTE = {"method": "GET", "route": "/api/v1/items/{item_id}", "status": "404"}


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in exposition.splitlines():
        match = re.fullmatch(re.escape(name) + r"\{(.*)\} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


def counted(exposition: str) -> list[str]:
    """Every `http_requests_total` sample line."""
    return [line for line in exposition.splitlines() if line.startswith("http_requests_total{")]


async def test_requests_are_counted_by_route_template_method_and_status(
    client: AsyncClient,
) -> None:
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
    # The path itself, not its digits: those may occur in any sample's value.
    assert "/api/v1/items/424242" not in metrics


async def test_unmatched_paths_share_one_label(client: AsyncClient) -> None:
    before = (await client.get("/metrics")).text

    await client.get("/random/path/123")
    await client.get("/another/456")
    metrics = (await client.get("/metrics")).text

    labels = {"method": "GET", "route": UNMATCHED, "status": "404"}
    added = sample(metrics, "http_requests_total", **labels) - sample(
        before, "http_requests_total", **labels
    )
    assert added == 2
    assert "/random/path" not in metrics


async def test_probes_and_scrapes_are_never_counted(client: AsyncClient) -> None:
    before = (await client.get("/metrics")).text

    for _ in range(3):
        await client.get("/health")
        await client.head("/health")
        await client.post("/health")
        await client.get("/ready")
    await client.get("/metrics")

    assert counted((await client.get("/metrics")).text) == counted(before)


async def test_metrics_off_removes_the_route_and_the_counting(client_for: ClientFactory) -> None:
    labels = {"method": "DELETE", "route": UNMATCHED, "status": "404"}
    before = REGISTRY.get_sample_value("http_requests_total", labels)

    async with client_for(metrics_enabled=False) as client:
        scrape = await client.get("/metrics")
        await client.delete("/not/counted")

    assert scrape.status_code == 404
    assert REGISTRY.get_sample_value("http_requests_total", labels) == before


# Serves a few requests, then prints what its /metrics shows, with the app as gunicorn's
# workers import it.
WORKER = """
import asyncio, sys
from httpx import ASGITransport, AsyncClient
from {{ cookiecutter.__package_name }}.main import app

async def main() -> None:
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        for _ in range(int(sys.argv[1])):
            await client.get("/from/a/worker")
        print((await client.get("/metrics")).text)

asyncio.run(main())
"""


@pytest.mark.heavy
def test_every_worker_process_is_summed_at_metrics(tmp_path: Path, settings: Settings) -> None:
    """Gunicorn's workers share PROMETHEUS_MULTIPROC_DIR; any of them answers the scrape."""
    environment = {
        **os.environ,
        **environment_of(settings),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }

    def worker(requests: int) -> str:
        result = subprocess.run(
            [sys.executable, "-c", WORKER, str(requests)],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    worker(2)
    exposition = worker(3)

    labels = {"method": "GET", "route": UNMATCHED, "status": "404"}
    assert sample(exposition, "http_requests_total", **labels) == 5
