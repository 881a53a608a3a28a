"""Fixtures: a real database migrated once, and the app as production runs it.

Requests go through the same pools, statements and cache as in production; each
test starts from empty tables (and an empty cache), since everything it wrote
was committed. Point TEST_DATABASE_URL at a database to run the suite against
it: it is wiped.
"""

import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
{% if cookiecutter.use_redis %}
from uuid import uuid4
{% endif %}

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import delete
from sqlmodel import SQLModel

{% if cookiecutter.auth == "oauth2" %}
from {{ cookiecutter.__package_name }}.auth.tokens import LocalTokens
{% endif %}
{% if cookiecutter.use_redis %}
from {{ cookiecutter.__package_name }}.cache.responses import RedisCache
{% endif %}
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.db import Statement
from {{ cookiecutter.__package_name }}.main import create_app
from {{ cookiecutter.__package_name }}.services import Services
{% if cookiecutter.use_celery %}

# The Celery option's fixtures: a real broker and worker for every test that enqueues.
pytest_plugins = ["tests.jobs.fixtures"]
{% endif %}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A value production accepts for every secret it refuses to start without.
PRODUCTION_SECRETS: dict[str, Any] = {
    "secret_key": SecretStr(secrets.token_hex(32)),
{% if cookiecutter.auth == "oauth2" %}
    "first_superuser_password": SecretStr(secrets.token_urlsafe(24)),
{% endif %}
}
# Emptied after each test, children before parents.
EMPTY_TABLES = [Statement(delete(table)) for table in reversed(SQLModel.metadata.sorted_tables)]


def alembic_config(database_url: str) -> Config:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or (
{% if cookiecutter.database == "postgres" %}
        "postgresql+asyncpg://postgres@localhost:5432/{{ cookiecutter.__package_name }}_test"
{% else %}
        f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
{% endif %}
    )
    # Building the schema from the migrations (not create_all) tests them too.
    config = alembic_config(url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
{% if cookiecutter.use_redis %}
        # Real Redis from TEST_REDIS_URL, under a key prefix no other test run uses.
        redis_url=os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15"),
        redis_key_prefix=f"test:{uuid4().hex}:",
{% endif %}
{% if cookiecutter.use_redis %}
        rate_limit_enabled=False,
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
        # The cheapest Argon2 hashes: the suite hashes a password in most auth tests.
        password_hash_memory_kib=8,
        password_hash_iterations=1,
{% endif %}
    )


{% if cookiecutter.auth == "oauth2" %}
@pytest.fixture(scope="session")
def credentials(settings: Settings) -> dict[str, str]:
    """What the `client` fixtures send: a superuser's token, which holds every scope."""
    token, _ = LocalTokens(settings).issue(0, [], superuser=True)
    return {"Authorization": f"Bearer {token}"}
{% else %}
@pytest.fixture(scope="session")
def credentials() -> dict[str, str]:
    """What the `client` fixtures send: nothing, as `api/access.py` lets anyone in. Put
    the credentials here that a check of your own there needs."""
    return {}
{% endif %}


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def services(app: FastAPI) -> Services:
    running: Services = app.state.services
    return running


@pytest.fixture
async def client(app: FastAPI, credentials: dict[str, str]) -> AsyncIterator[AsyncClient]:
    """A client of the app, with `credentials`; what the test wrote is gone after it."""
    try:
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://test", headers=credentials
        ) as client:
            yield client
    finally:
        await forget_everything(services(app))


async def forget_everything(running: Services) -> None:
    for statement in EMPTY_TABLES:
        await running.store.database.fetch_all(statement)
{% if cookiecutter.auth == "oauth2" %}
    # Failed sign-ins this worker counted itself.
    await running.auth.throttle.memory.reset()
{% endif %}
{% if cookiecutter.use_redis %}
    await forget_keys(running)


async def forget_keys(running: Services) -> None:
    cache = running.store.cache
    assert isinstance(cache, RedisCache)
    keys = [key async for key in cache.redis.scan_iter(f"{running.settings.redis_key_prefix}*")]
    if keys:
        await cache.redis.delete(*keys)
{% endif %}


def environment_of(settings: Settings) -> dict[str, str]:
    """The variables that point a process a test starts at the test's own services."""
    return {
        "DATABASE_URL": settings.database_url,
{% if cookiecutter.use_redis %}
        "REDIS_URL": settings.redis_url,
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
{% endif %}
    }


ClientFactory = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def client_for(settings: Settings, credentials: dict[str, str]) -> ClientFactory:
    """A client for an app built with other settings, e.g. `client_for(metrics_enabled=False)`.

    `extend` may add test-only routes to the app before it starts.
    """

    @asynccontextmanager
    async def client_for(
        extend: Callable[[FastAPI], None] | None = None, **overrides: Any
    ) -> AsyncIterator[AsyncClient]:
        app = create_app(settings.model_copy(update=overrides))
        if extend is not None:
            extend(app)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(
                transport=ASGITransport(app=app), base_url="http://test", headers=credentials
            ) as client,
        ):
            try:
                yield client
            finally:
                await forget_everything(services(app))

    return client_for


async def created(client: AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` to `path`, which must create it, and return what was stored."""
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    row: dict[str, Any] = response.json()
    return row
