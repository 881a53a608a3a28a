"""Fixtures: a real database migrated once, and one rolled-back transaction per test.

Point TEST_DATABASE_URL at a database to run the suite against it; it is wiped.
"""

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
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
from sqlalchemy import RowMapping
from sqlmodel.ext.asyncio.session import AsyncSession

from {{ cookiecutter.__package_name }} import crud
from {{ cookiecutter.__package_name }}.api.deps import (
    SessionFactory,
    get_reader_factory,
    get_session_factory,
)
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app
{% if cookiecutter.use_celery %}

# The Celery option's fixtures: a real broker and worker for every test that enqueues.
pytest_plugins = ["tests.jobs.fixtures"]
{% endif %}

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
{% if cookiecutter.database == "postgres" %}
    url = (
        os.environ.get("TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@localhost:5432/{{ cookiecutter.__package_name }}_test"
    )
{% else %}
    default = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = os.environ.get("TEST_DATABASE_URL") or default
{% endif %}
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
        rate_limit_enabled=False,
{% endif %}
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app
{% if cookiecutter.use_redis %}
        await forget_keys(app, settings.redis_key_prefix)


async def forget_keys(app: FastAPI, prefix: str) -> None:
    keys = [key async for key in app.state.redis.scan_iter(f"{prefix}*")]
    if keys:
        await app.state.redis.delete(*keys)
{% endif %}


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session whose commits become savepoints inside a transaction that is rolled back."""
    async with app.state.database.engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
async def client(app: FastAPI, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """A client whose requests all use the test's session (and so its transaction)."""

    async def test_session_factory() -> SessionFactory:
        return lambda: nullcontext(session)

    app.dependency_overrides[get_session_factory] = test_session_factory
    app.dependency_overrides[get_reader_factory] = test_session_factory
    driver_reader, app.state.item_reader = app.state.item_reader, SessionItemReader(session)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        app.dependency_overrides.clear()
        app.state.item_reader = driver_reader
{% if cookiecutter.use_redis %}
        # The database rolls back; the cache must forget this test's entries too.
        await forget_keys(app, app.state.settings.redis_key_prefix)
{% endif %}


class SessionItemReader:
    """Item reads inside the test's transaction, which the driver's own pool cannot see
    (`tests/test_reads.py` covers that pool with committed rows)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def item(self, item_id: int) -> RowMapping | None:
        return await crud.read_item(self.session, item_id)

    async def page(self, limit: int, offset: int) -> Sequence[RowMapping]:
        return await crud.read_items(self.session, limit=limit, offset=offset)


ClientFactory = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def client_for(settings: Settings) -> ClientFactory:
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
            AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
        ):
            yield client

    return client_for


async def create_item(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    """POST an item (a valid one unless `fields` say otherwise) and return it."""
    response = await client.post("/api/v1/items", json={"name": "Widget", "price": 9.5, **fields})
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item
