"""Safe defaults: security headers, no docs or debug in production, no placeholder secrets."""

import secrets

import pytest
from httpx import AsyncClient
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.__package_name }}.core.config import PLACEHOLDER, Settings

from tests.conftest import ClientFactory

REAL_SECRET = SecretStr(secrets.token_urlsafe(32))


async def test_every_response_carries_the_security_headers(client: AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/no/such/page")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_when_the_service_is_behind_tls(client_for: ClientFactory) -> None:
    async with client_for(hsts_enabled=True) as client:
        response = await client.get("/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_are_served_in_development(client: AsyncClient) -> None:
    assert (await client.get("/openapi.json")).status_code == 200


async def test_docs_are_off_in_production_unless_asked_for(
    settings: Settings, client_for: ClientFactory
) -> None:
    production = {"environment": "production", "secret_key": REAL_SECRET}
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
            secret_key=SecretStr(secret),
        )


def test_production_refuses_debug(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="DEBUG must be false"):
        Settings(
            environment="production",
            database_url=settings.database_url,
            secret_key=REAL_SECRET,
            debug=True,
        )


def test_production_starts_with_real_values(settings: Settings) -> None:
    production = Settings(
        environment="production", database_url=settings.database_url, secret_key=REAL_SECRET
    )

    assert production.docs_in_effect is False
    assert production.log_format_in_effect == "json"
