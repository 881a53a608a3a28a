"""Every error answers with the same body: `detail` and the request id to quote."""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app

from tests.live_server import serving

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def test_unknown_path_is_404_with_the_request_id(client: AsyncClient) -> None:
    response = await client.get("/no/such/path")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "Not Found",
        "request_id": response.headers["x-request-id"],
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/items", "GET, POST"),
        ("PUT", "/api/v1/items/1", "DELETE, GET, PATCH"),
        ("POST", "/ready", "GET"),
        ("POST", "/metrics", "GET"),
    ],
)
async def test_wrong_method_is_405_naming_every_method_of_the_path(
    client: AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {
        "detail": "Method Not Allowed",
        "request_id": response.headers["x-request-id"],
    }


async def test_validation_error_keeps_fastapis_detail_list(client: AsyncClient) -> None:
    response = await client.post("/api/v1/items", json={"name": "x", "price": -1})

    body = response.json()
    assert response.status_code == 422
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["detail"][0]["loc"] == ["body", "price"]
    assert {"type", "loc", "msg"} <= set(body["detail"][0])


async def test_documented_errors_carry_the_error_body_schema(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    read_item = schema["paths"]["/api/v1/items/{item_id}"]["get"]["responses"]
    create_item = schema["paths"]["/api/v1/items"]["post"]["responses"]

    def body_schema(response: dict[str, Any]) -> dict[str, Any]:
        reference: str = response["content"]["application/json"]["schema"]["$ref"]
        found: dict[str, Any] = components[reference.rsplit("/", 1)[1]]
        return found

    for response in (read_item["404"], read_item["503"], create_item["409"]):
        assert set(body_schema(response)["properties"]) == {"detail", "request_id"}
    assert set(body_schema(read_item["422"])["properties"]) == {"detail", "request_id"}


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` behind a real server, which logs what the app lets escape (a crash), through
    the service's logging as in production."""
    with serving(app, log_config=None, log_level=None) as (host, port):
        yield f"http://{host}:{port}"


def logged_errors(err: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry["level"] == "ERROR"]


def add_crashing_route(app: FastAPI) -> None:
    async def crash() -> None:
        raise RuntimeError("token hunter2 rejected by upstream")

    app.add_api_route("/crash", crash)


async def test_an_unhandled_error_is_a_clean_500_and_its_trace_goes_to_the_log(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"log_format": "json"}))
    add_crashing_route(app)

    with served(app) as url:
        async with AsyncClient(base_url=url) as client:
            response = await client.get("/crash", headers={"X-Request-ID": "crash-1"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "request_id": "crash-1"}
    assert response.headers["x-request-id"] == "crash-1"
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "hunter2" not in response.text
    [error] = logged_errors(capsys.readouterr().err)
    assert error["request_id"] == "crash-1"
    assert "RuntimeError: token hunter2" in error["exception"]


@asynccontextmanager
async def changed_behind_the_apps_back(
    database_url: str, change: str, undo: str
) -> AsyncIterator[None]:
    """The schema changed as by a model changed without a migration, then put back."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(change))
        try:
            yield
        finally:
            async with engine.begin() as connection:
                await connection.execute(text(undo))
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("change", "undo", "cause"),
    [
        (
            "ALTER TABLE item RENAME COLUMN price TO price_moved",
            "ALTER TABLE item RENAME COLUMN price_moved TO price",
            "price",
        ),
        ("ALTER TABLE item RENAME TO item_moved", "ALTER TABLE item_moved RENAME TO item", "item"),
    ],
    ids=["missing-column", "missing-table"],
)
# The server shares the tests' database and cache: `client` empties both afterwards.
@pytest.mark.usefixtures("client")
async def test_a_schema_out_of_step_with_the_models_is_a_500_with_the_cause_in_the_log(
    settings: Settings, capsys: pytest.CaptureFixture[str], change: str, undo: str, cause: str
) -> None:
    """A bug to fix (a migration to write), not an outage to wait out: no 503."""
    app = create_app(settings.model_copy(update={"log_format": "json"}))

    with served(app) as url:
        async with (
            AsyncClient(base_url=url) as client,
            changed_behind_the_apps_back(settings.database_url, change, undo),
        ):
            response = await client.get("/api/v1/items")
        # The server closes a connection whose request crashed, once it has logged the
        # crash: a request sent on it before that would find it closing.
        async with AsyncClient(base_url=url) as client:
            after = await client.get("/api/v1/items")

    assert response.status_code == 500
    assert response.json() == {
        "detail": "Internal Server Error",
        "request_id": response.headers["x-request-id"],
    }
    [error] = logged_errors(capsys.readouterr().err)
    assert error["request_id"] == response.headers["x-request-id"]
    assert cause in error["exception"].splitlines()[-1]
    assert after.status_code == 200
