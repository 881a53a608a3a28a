import logging
import re

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import ClientFactory


async def test_a_request_id_is_generated_when_none_is_sent(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_a_sane_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "checkout-7f3a.1"})

    assert response.headers["x-request-id"] == "checkout-7f3a.1"


@pytest.mark.parametrize("unsafe", ["x" * 129, "two words", "<script>", ""])
async def test_an_unsafe_request_id_is_replaced(client: AsyncClient, unsafe: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": unsafe})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_process_time_is_reported(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert 0 <= float(response.headers["x-process-time"]) < 5


def add_logging_route(app: FastAPI) -> None:
    async def log_something() -> dict[str, str]:
        logging.getLogger("orders").warning("stock is low")
        return {}

    app.add_api_route("/log", log_something)


async def test_log_lines_carry_the_request_id(
    client_for: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_for(extend=add_logging_route, log_format="console") as client:
        response = await client.get("/log", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 200
    [line] = [line for line in capsys.readouterr().err.splitlines() if "stock is low" in line]
    assert "WARNING" in line
    assert "orders [req-42] stock is low" in line
