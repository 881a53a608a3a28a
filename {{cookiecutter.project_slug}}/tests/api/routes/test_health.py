from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app


async def test_health_answers_without_io(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_not_ready_names_the_database_when_it_is_unreachable(settings: Settings) -> None:
{% if cookiecutter.database == "postgres" %}
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/missing"
{% else %}
    unreachable = "sqlite+aiosqlite:////nonexistent-directory/missing.db"
{% endif %}
    app = create_app(settings.model_copy(update={"database_url": unreachable}))

    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "failing"}}
