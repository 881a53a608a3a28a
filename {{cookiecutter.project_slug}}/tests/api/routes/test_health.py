"""Liveness (`/health`, answered before routing) and readiness (`/ready`, each dependency asked)."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app
from {{ cookiecutter.__package_name }}.readiness import READY_CACHE_SECONDS, Readiness

from tests.conftest import PRODUCTION_SECRETS, ClientFactory{% if cookiecutter.database == "sqlite" %}, services{% endif %}

{% if cookiecutter.use_celery %}
from tests.tcp_proxy import TcpProxy
{% endif %}

DEPENDENCIES = [
    "database",
{% if cookiecutter.use_redis %}
    "redis",
{% endif %}
{% if cookiecutter.use_celery %}
    "broker",
{% endif %}
]
ALL_OK = dict.fromkeys(DEPENDENCIES, "ok")


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client of `app`, for an app that loses one of its services.

    Not `client_for`, which empties the database and the cache through the app
    afterwards: one of them is gone, and these tests write nothing.
    """
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_health_is_alive_for_get_and_head(client: AsyncClient) -> None:
    get = await client.get("/health")
    head = await client.head("/health")

    assert (get.status_code, get.json()) == (200, {"status": "ok"})
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"]


def add_teapot_at_health(app: FastAPI) -> None:
    """A route at `/health`: only a request that is routed can reach it."""

    async def teapot() -> Response:
        return Response(status_code=418)

    app.add_api_route("/health", teapot, methods=["GET", "HEAD"])


async def test_health_is_answered_before_routing(client_for: ClientFactory) -> None:
    async with client_for(extend=add_teapot_at_health) as client:
        responses = [await client.get("/health"), await client.head("/health")]

    assert [response.status_code for response in responses] == [200, 200]


async def test_other_methods_on_health_are_405_naming_get_and_head(client: AsyncClient) -> None:
    response = await client.post("/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {
        "detail": "Method Not Allowed",
        "request_id": response.headers["x-request-id"],
    }


async def test_ready_when_every_dependency_answers(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_OK}


async def test_production_says_whether_not_why_unless_asked(client_for: ClientFactory) -> None:
    production = {"environment": "production", **PRODUCTION_SECRETS}
    async with client_for(**production) as client:
        terse = await client.get("/ready", headers={"Authorization": ""})
    async with client_for(**production, readiness_details=True) as client:
        detailed = await client.get("/ready", headers={"Authorization": ""})

    assert terse.json() == {"status": "ready"}
    assert detailed.json() == {"status": "ready", "checks": ALL_OK}


async def test_the_checks_run_once_for_many_calls_and_again_a_second_later() -> None:
    """Orchestrators, load balancers and strangers all call `/ready`: the database and the
    broker are asked once per READY_CACHE_SECONDS, however many calls come."""
    asked = []

    async def check() -> None:
        asked.append(time.monotonic())
        await asyncio.sleep(0.05)

    readiness = Readiness({"database": check})
    first = await asyncio.gather(*(readiness.report() for _ in range(50)))
    again = await readiness.report()
    await asyncio.sleep(READY_CACHE_SECONDS)
    later = await readiness.report()

    assert first == [{"database": "ok"}] * 50
    assert again == later == {"database": "ok"}
    assert len(asked) == 2


{% if cookiecutter.database == "postgres" %}
async def test_not_ready_names_the_database_when_it_is_unreachable(settings: Settings) -> None:
    """The service starts without its database (and says so here) until it answers."""
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/missing"
    app = create_app(settings.model_copy(update={"database_url": unreachable}))
    async with started(app) as client:
        response = await client.get("/ready")
{% else %}
async def test_not_ready_names_the_database_when_it_does_not_answer(settings: Settings) -> None:
    """Its connections lost under the running service. (A file that cannot be opened at
    all stops the service at start: see `tests/test_faults.py`.)"""
    app = create_app(settings)
    async with started(app) as client:
        database = services(app).store.database
        await database.reader.close()
        await database.writer.close()
        response = await client.get("/ready")
{% endif %}

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {**ALL_OK, "database": "failing"}}
{% if cookiecutter.use_redis %}


async def test_a_cache_outage_degrades_but_keeps_the_service_ready(settings: Settings) -> None:
    """The API serves everything without Redis: losing it must not pull every replica."""
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    async with started(app) as client:
        response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {**ALL_OK, "redis": "failing"}}
{% endif %}
{% if cookiecutter.use_celery %}


async def test_a_broker_outage_degrades_but_keeps_the_service_ready(
    client_for: ClientFactory, broker_proxy: TcpProxy
) -> None:
    """Only enqueueing needs the broker; every other route still serves."""
    broker_proxy.stop()
    try:
        async with client_for() as client:
            response = await client.get("/ready")
    finally:
        broker_proxy.start()

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {**ALL_OK, "broker": "failing"}}
{% endif %}
