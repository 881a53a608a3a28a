"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests over real HTTP: no response may be a 5xx,
and every response must match what the schema documents (status, content type,
body). Rows the fuzzer creates are removed afterwards.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from {{ cookiecutter.__package_name }}.core.config import Settings
{% if cookiecutter.use_celery %}
from {{ cookiecutter.__package_name }}.jobs.app import celery_app
{% endif %}
from {{ cookiecutter.__package_name }}.main import create_app

from tests.live_server import serving

pytestmark = pytest.mark.heavy

schema = schemathesis.openapi.from_dict(create_app(Settings(environment="test")).openapi())


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn in a thread, with its own pools and event loop."""
{% if cookiecutter.use_redis %}
    # A key prefix of its own: the other tests must not find the fuzzer's cache entries.
    settings = settings.model_copy(update={"redis_key_prefix": f"{settings.redis_key_prefix}fuzz:"})
{% endif %}
    with serving(create_app(settings)) as (host, port):
        yield f"http://{host}:{port}"
{% if cookiecutter.use_celery %}
    # Nothing runs the tasks the fuzzer queued; the task tests must not find them.
    celery_app.control.purge()
{% endif %}
    asyncio.run(remove_every_row(settings.database_url))


async def remove_every_row(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await connection.execute(delete(table))
    await engine.dispose()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any], live_server: str) -> None:
    case.call_and_validate(base_url=live_server)
