"""Safe defaults: security headers, no docs or debug in production, no placeholder secrets."""

import pytest
from httpx import AsyncClient
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.__package_name }}.core.config import PLACEHOLDER, Settings

from tests.conftest import PRODUCTION_SECRETS, ClientFactory

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
LIMIT = 1024


async def test_every_response_carries_the_security_headers(client_for: ClientFactory) -> None:
    """Whoever answers: the probe, the router, a route, a handler or a middleware of ours.
    (The 500 is in `tests/test_errors.py`: it needs a real server.)"""
    async with client_for(max_request_body_bytes=LIMIT) as client:
        responses = [
            await client.get("/health"),
            await client.head("/health"),
            await client.post("/health"),
            await client.get("/ready"),
            await client.get("/no/such/page"),
            await client.put("/api/v1/items"),
            await client.post("/api/v1/items", json={}),
            await client.post("/api/v1/items", content=b"x" * (LIMIT + 1)),
        ]

    assert [response.status_code for response in responses] == [
        200, 200, 405, 200, 404, 405, 422, 413
    ]  # fmt: skip
    for response in responses:
        headers = {name: response.headers.get(name) for name in SECURITY_HEADERS}
        assert headers == SECURITY_HEADERS, response.request
        assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_when_the_service_is_behind_tls(client_for: ClientFactory) -> None:
    async with client_for(hsts_enabled=True) as client:
        responses = [await client.get("/health"), await client.get("/no/such/page")]

    for response in responses:
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_are_served_in_development(client_for: ClientFactory) -> None:
    async with client_for(environment="development") as client:
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200


async def test_docs_are_off_in_production_unless_asked_for(client_for: ClientFactory) -> None:
    production = {"environment": "production", **PRODUCTION_SECRETS}
    async with client_for(**production) as client:
        assert (await client.get("/openapi.json")).status_code == 404
        assert (await client.get("/docs")).status_code == 404
    async with client_for(**production, docs_enabled=True) as client:
        assert (await client.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    "secret", [PLACEHOLDER, "", "x", "changeme", "CHANGE-ME", "a" * 64, "abab" * 16]
)
def test_production_refuses_a_weak_secret(settings: Settings, secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be at least 32 random characters"):
        Settings(
            environment="production",
            database_url=settings.database_url,
            **{**PRODUCTION_SECRETS, "secret_key": SecretStr(secret)},
        )


def test_production_refuses_debug_and_a_weak_secret_in_one_line(settings: Settings) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            environment="production",
            database_url=settings.database_url,
            debug=True,
            **{**PRODUCTION_SECRETS, "secret_key": SecretStr(PLACEHOLDER)},
        )

    [problem] = refused.value.errors()
    assert problem["msg"] == (
        "Value error, Refusing to start in production: DEBUG must be false; "
        "SECRET_KEY must be at least 32 random characters (openssl rand -hex 32)."
    )


def test_production_starts_with_real_values(settings: Settings) -> None:
    production = Settings(
        environment="production", database_url=settings.database_url, **PRODUCTION_SECRETS
    )

    assert production.docs_in_effect is False
    assert production.debug is False
    assert production.log_format_in_effect == "json"


async def test_a_trailing_slash_is_a_404_never_a_redirect_to_the_clients_host(
    client: AsyncClient,
) -> None:
    """A redirect's absolute URL would name whatever `Host` the client sent."""
    for path in ("/api/v1/items/", "/api/v1/categories/", "/ready/"):
        response = await client.get(path, headers={"Host": "evil.example"})

        assert response.status_code == 404, path
        assert "location" not in response.headers
