"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests over real HTTP, both what the schema
allows and what it refuses: no response may be a 5xx, every response must match
what the schema documents (status, content type, body), input the schema refuses
must be refused, and input it allows must not be refused as invalid. The schema
is the contract clients are generated from: a field type the service applies
more loosely or more strictly than it publishes fails here.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from {{ cookiecutter.__package_name }}.core.config import Settings
{% if cookiecutter.use_celery %}
from {{ cookiecutter.__package_name }}.jobs.app import celery_app
{% endif %}
from {{ cookiecutter.__package_name }}.main import create_app

from tests.conftest import forget_everything, services
from tests.live_server import serving

pytestmark = pytest.mark.heavy

schema = schemathesis.openapi.from_dict(create_app(Settings(environment="test")).openapi())


@pytest.fixture(scope="module")
async def live_server(app: FastAPI, settings: Settings) -> AsyncIterator[str]:
    """The app served by uvicorn in a thread, with its own pools and event loop.

    What the fuzzer stored is committed: it is removed afterwards through the
    suite's own app, which shares the database (and, under its key prefix, the cache).
    """
{% if cookiecutter.use_redis %}
    prefix = f"{settings.redis_key_prefix}fuzz:"
    settings = settings.model_copy(update={"redis_key_prefix": prefix})
{% endif %}
    with serving(create_app(settings)) as (host, port):
        yield f"http://{host}:{port}"
{% if cookiecutter.use_celery %}
    # Nothing runs the tasks the fuzzer queued; the task tests must not find them.
    celery_app.control.purge()
{% endif %}
    await forget_everything(services(app))


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case[Any], live_server: str, credentials: dict[str, str]
) -> None:
    """With the `client` fixtures' credentials, so that it reaches every protected route."""
    case.call_and_validate(base_url=live_server, headers=credentials)
