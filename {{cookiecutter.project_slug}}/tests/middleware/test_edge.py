"""The outermost layer: `/health` answered there as the route would, and one pass for the rest."""

import pytest
from fastapi import FastAPI, Response
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.__package_name }}.api.routes import health

from tests.conftest import ClientFactory

# Differ on every response, by design.
PER_REQUEST = {"x-request-id", "x-process-time"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def from_route_alone(path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer of the route itself, in an app with no middleware."""
    bare = FastAPI()
    bare.include_router(health.router)
    async with AsyncClient(transport=ASGITransport(app=bare), base_url="http://test") as client:
        response = await client.get(path)
    return response.status_code, list(response.headers.multi_items()), response.content


def app_headers(response_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response_headers if name not in PER_REQUEST]


async def test_health_from_the_edge_is_the_routes_answer_with_id_and_security_headers(
    client: AsyncClient,
) -> None:
    status, route_headers, body = await from_route_alone("/health")

    response = await client.get("/health", headers={"X-Request-ID": "probe-1"})

    assert (response.status_code, response.content) == (status, body)
    assert app_headers(list(response.headers.multi_items())) == [
        *route_headers,
        *SECURITY_HEADERS.items(),
    ]
    assert response.headers["x-request-id"] == "probe-1"
    assert 0 <= float(response.headers["x-process-time"]) < 5


def shadow_health_route(app: FastAPI) -> None:
    """A route matched before the real one: only a request that is routed reaches it."""

    async def teapot() -> Response:
        return Response(status_code=418)

    app.router.routes.insert(0, APIRoute("/health", teapot))


async def test_health_is_answered_before_routing(client_for: ClientFactory) -> None:
    async with client_for(extend=shadow_health_route) as client:
        response = await client.get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_probes_are_never_counted(client: AsyncClient) -> None:
    for _ in range(3):
        await client.get("/health")
        await client.get("/ready")

    exposition = (await client.get("/metrics")).text

    assert 'route="/health"' not in exposition
    assert 'route="/ready"' not in exposition
    assert 'route="/metrics"' not in exposition


async def test_health_stays_documented(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert "get" in paths["/health"]


async def test_other_methods_on_a_probe_reach_the_router(client: AsyncClient) -> None:
    response = await client.post("/health")

    assert response.status_code == 405
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_the_access_log_has_one_line_per_request_probes_included(
    client_for: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="access")
    async with client_for(access_log=True) as client:
        await client.get("/health")
        await client.get("/api/v1/items/424242")

    lines = [record.getMessage() for record in caplog.records if record.name == "access"]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "GET /health 200",
        "GET /api/v1/items/424242 404",
    ]
