import re

from httpx import AsyncClient

from tests.conftest import ClientFactory


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in exposition.splitlines():
        match = re.fullmatch(re.escape(name) + r"\{(.*)\} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_requests_are_counted_by_route_template(client: AsyncClient) -> None:
    route = {"method": "GET", "route": "/api/v1/items/{item_id}", "status": "404"}
    before = sample((await client.get("/metrics")).text, "http_requests_total", **route)

    await client.get("/api/v1/items/424242")
    await client.get("/api/v1/items/434343")
    metrics = (await client.get("/metrics")).text

    assert sample(metrics, "http_requests_total", **route) == before + 2
    assert sample(metrics, "http_request_duration_seconds_count", **route) >= 2
    assert "424242" not in metrics
    assert "http_requests_in_flight" in metrics


async def test_unmatched_paths_share_one_label(client: AsyncClient) -> None:
    await client.get("/random/path/123")

    metrics = (await client.get("/metrics")).text

    assert sample(metrics, "http_requests_total", route="<unmatched>", status="404") >= 1
    assert "/random/path" not in metrics


async def test_metrics_can_be_turned_off(client_for: ClientFactory) -> None:
    async with client_for(metrics_enabled=False) as client:
        assert (await client.get("/metrics")).status_code == 404
