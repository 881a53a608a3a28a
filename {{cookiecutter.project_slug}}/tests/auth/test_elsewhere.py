"""The rest of the service under the auth option: metrics, logs and OpenAPI."""

import json
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.__package_name }}.auth.tokens import LocalTokens
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app

from tests.auth.conftest import ITEMS, PASSWORD, TOKEN, bearer, new_user
from tests.auth.test_scopes import token
from tests.conftest import PRODUCTION_SECRETS, ClientFactory
from tests.live_server import serving

SCHEME = "OAuth2PasswordBearer"
PRODUCTION = {"environment": "production", **PRODUCTION_SECRETS}


async def test_metrics_need_a_scope_in_production_only(
    settings: Settings, client_for: ClientFactory
) -> None:
    production = LocalTokens(settings.model_copy(update=PRODUCTION))
    scraper_token, _ = production.issue(7, ["metrics:read"], superuser=False)
    async with client_for(**PRODUCTION) as client:
        anonymous = await client.get("/metrics", headers={"Authorization": ""})
        scraper = await client.get("/metrics", headers=bearer(scraper_token))
    async with client_for() as client:
        development = await client.get("/metrics", headers={"Authorization": ""})

    assert anonymous.status_code == 401
    assert scraper.status_code == 200
    assert development.status_code == 200
{% if cookiecutter.use_celery %}


async def test_task_status_needs_a_scope_in_production_only(client_for: ClientFactory) -> None:
    path = "/api/v1/tasks/0d3f5a0e-1f7b-4f55-8a4e-1b2c3d4e5f60"
    async with client_for(**PRODUCTION) as client:
        anonymous = await client.get(path, headers={"Authorization": ""})
    async with client_for() as client:
        development = await client.get(path, headers={"Authorization": ""})

    assert anonymous.status_code == 401
    assert development.status_code != 401
{% endif %}


async def test_log_lines_name_the_subject_never_the_token(
    app: FastAPI, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = token(app, "items:write")
    served = create_app(settings.model_copy(update={"log_format": "json", "access_log": True}))
    with serving(served, log_config=None, log_level=None) as (host, port):
        async with AsyncClient(base_url=f"http://{host}:{port}") as client:
            response = await client.post(
                ITEMS, json={"name": "Lamp", "price": 9}, headers=credentials
            )
            anonymous = await client.get(ITEMS)

    output = capsys.readouterr().err
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert response.status_code == 201
    assert anonymous.status_code == 200
    assert [(line["method"], line["subject"]) for line in access] == [
        ("POST", "user:7"),
        ("GET", None),
    ]
    assert credentials["Authorization"].split()[1] not in output


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


async def test_openapi_lists_the_scheme_and_every_routes_scopes(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    documented = operations(schema)
    flow = schema["components"]["securitySchemes"][SCHEME]["flows"]["password"]

    assert flow["tokenUrl"] == TOKEN
    assert {"items:write", "categories:write"} <= set(flow["scopes"])
    assert documented[("POST", ITEMS)]["security"] == [{SCHEME: ["items:write"]}]
    assert documented[("DELETE", ITEMS + "/{item_id}")]["security"] == [{SCHEME: ["items:write"]}]
    assert documented[("GET", ITEMS)]["security"] == []
    assert {"401", "403"} <= set(documented[("POST", ITEMS)]["responses"])
    assert "401" not in documented[("GET", ITEMS)]["responses"]
    assert documented[("GET", "/api/v1/users/me")]["security"] == [{SCHEME: []}]


async def test_openapi_follows_the_protected_reads_and_the_provider(
    client_for: ClientFactory,
) -> None:
    provider = {"oidc_issuer_url": "https://login.example.com", "oidc_audience": "svc"}
    async with client_for(auth_protected_reads="items", **provider) as client:
        schema = (await client.get("/openapi.json")).json()

    read = operations(schema)[("GET", ITEMS)]
    assert read["security"] == [{SCHEME: ["items:read"]}, {"OpenIdConnect": ["items:read"]}]
    assert schema["components"]["securitySchemes"]["OpenIdConnect"] == {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://login.example.com/.well-known/openid-configuration",
    }


async def test_swaggers_authorize_button_signs_in_at_the_documented_url(
    client: AsyncClient, anonymous: AsyncClient, app: FastAPI
) -> None:
    """What Swagger UI's password flow sends: a form to the scheme's tokenUrl."""
    await new_user(app, scopes=["items:write"])
    schema = (await client.get("/openapi.json")).json()
    url = schema["components"]["securitySchemes"][SCHEME]["flows"]["password"]["tokenUrl"]

    response = await anonymous.post(
        url,
        data={
            "grant_type": "password",
            "username": "ada@example.com",
            "password": PASSWORD,
            "scope": "items:write",
        },
    )
    access_token = response.json()["access_token"]

    created = await anonymous.post(
        ITEMS, json={"name": "Lamp", "price": 9}, headers=bearer(access_token)
    )
    assert created.status_code == 201
