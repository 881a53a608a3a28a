"""Every error answers with the same body: `detail` and the request id to quote."""

import json
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import ClientFactory


async def test_unknown_path_is_404_with_the_request_id(client: AsyncClient) -> None:
    response = await client.get("/no/such/path")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "Not Found",
        "request_id": response.headers["x-request-id"],
    }


async def test_wrong_method_is_405(client: AsyncClient) -> None:
    response = await client.put("/api/v1/items")

    assert response.status_code == 405
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_validation_error_keeps_fastapis_detail_list(client: AsyncClient) -> None:
    response = await client.post("/api/v1/items", json={"name": "x", "price": -1})

    body = response.json()
    assert response.status_code == 422
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["detail"][0]["loc"] == ["body", "price"]


def add_crashing_route(app: FastAPI) -> None:
    async def crash() -> None:
        raise RuntimeError("token hunter2 rejected by upstream")

    app.add_api_route("/crash", crash)


async def test_unhandled_error_is_a_clean_500_and_the_trace_goes_to_the_log(
    client_for: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_for(extend=add_crashing_route, log_format="json") as client:
        response = await client.get("/crash")

    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "request_id": request_id}
    assert "hunter2" not in response.text
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [error] = [entry for entry in logged if entry["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "RuntimeError: token hunter2" in error["exception"]


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
