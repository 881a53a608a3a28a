from httpx import AsyncClient

from tests.conftest import ClientFactory

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


async def test_health_answers_without_io(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_every_dependency_answers(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_OK}


async def test_not_ready_names_the_database_when_it_is_unreachable(
    client_for: ClientFactory,
) -> None:
{% if cookiecutter.database == "postgres" %}
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/missing"
{% else %}
    unreachable = "sqlite+aiosqlite:////nonexistent-directory/missing.db"
{% endif %}
    async with client_for(database_url=unreachable) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {**ALL_OK, "database": "failing"}}
{% if cookiecutter.use_redis %}


async def test_a_cache_outage_degrades_but_keeps_the_service_ready(
    client_for: ClientFactory,
) -> None:
    """The API serves everything without Redis: losing it must not pull every replica."""
    async with client_for(redis_url="redis://127.0.0.1:9/0") as client:
        response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {**ALL_OK, "redis": "failing"}}
{% endif %}
