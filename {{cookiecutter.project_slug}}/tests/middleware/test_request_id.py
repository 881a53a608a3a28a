"""Request ids (asgi-correlation-id): on every response, and on every log line of the request."""

import json
import logging
import re

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import ClientFactory

GENERATED = re.compile(r"[0-9a-f]{32}")
LIMIT = 1024


async def test_a_request_id_is_generated_when_none_is_sent(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_a_sane_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "checkout-7f3a.1"})

    assert response.headers["x-request-id"] == "checkout-7f3a.1"


@pytest.mark.parametrize("unsafe", ["x" * 129, "two words", "<script>", "a\tb", ""])
async def test_an_unsafe_request_id_is_replaced(client: AsyncClient, unsafe: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": unsafe})

    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_every_response_carries_the_request_id_and_error_bodies_quote_it(
    client_for: ClientFactory,
) -> None:
    """Whoever answers: the probe, the router, a route, a handler or a middleware of ours.
    (The 500 is in `tests/test_errors.py`: it needs a real server.)"""
    async with client_for(max_request_body_bytes=LIMIT) as client:
        responses = [
            await client.request(method, path, content=body, headers={"X-Request-ID": "r-1"})
            for method, path, body in [
                ("GET", "/health", None),
                ("HEAD", "/health", None),
                ("POST", "/health", None),
                ("GET", "/ready", None),
                ("GET", "/no/such/path", None),
                ("PUT", "/api/v1/items", None),
                ("POST", "/api/v1/items", b"{}"),
                ("POST", "/api/v1/items", b"x" * (LIMIT + 1)),
            ]
        ]

    assert [response.status_code for response in responses] == [
        200, 200, 405, 200, 404, 405, 422, 413
    ]  # fmt: skip
    for response in responses:
        assert response.headers["x-request-id"] == "r-1", response.request
        if response.status_code >= 400:
            assert response.json()["request_id"] == "r-1", response.request


def add_logging_route(app: FastAPI) -> None:
    async def log_something() -> dict[str, str]:
        logging.getLogger("orders").warning("stock is low")
        return {}

    app.add_api_route("/log", log_something)


async def test_console_lines_carry_the_request_id(
    client_for: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_for(extend=add_logging_route, log_format="console") as client:
        response = await client.get("/log", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 200
    [line] = [line for line in capsys.readouterr().err.splitlines() if "stock is low" in line]
    assert "WARNING" in line
    assert "orders [req-42] stock is low" in line


async def test_json_lines_carry_the_request_id(
    client_for: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_for(extend=add_logging_route, log_format="json") as client:
        response = await client.get("/log")

    [entry] = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if "stock is low" in line
    ]
    assert entry["request_id"] == response.headers["x-request-id"]
    assert (entry["level"], entry["logger"]) == ("WARNING", "orders")
