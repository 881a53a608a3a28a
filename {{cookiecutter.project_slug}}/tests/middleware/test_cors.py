import pytest
from pydantic import ValidationError

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import PRODUCTION_SECRETS, ClientFactory

ALLOWED = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


async def test_preflight_from_an_allowed_origin_passes(client_for: ClientFactory) -> None:
    async with client_for(cors_origins=ALLOWED) as client:
        response = await client.options("/api/v1/items", headers={"Origin": ALLOWED, **PREFLIGHT})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_other_origins_get_no_cors_headers(client_for: ClientFactory) -> None:
    async with client_for(cors_origins=ALLOWED) as client:
        preflight = await client.options(
            "/api/v1/items", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        simple = await client.get("/health", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


def test_wildcard_with_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot be combined with CORS_ALLOW_CREDENTIALS"):
        Settings(cors_origins="*", cors_allow_credentials=True)


def test_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", f"{ALLOWED}, https://admin.example.com")

    assert Settings().cors_origin_list == [ALLOWED, "https://admin.example.com"]


def test_local_front_ends_are_allowed_in_development_only() -> None:
    development = Settings(environment="development")
    production = Settings(environment="production", **PRODUCTION_SECRETS)

    assert "http://localhost:5173" in development.cors_origin_list
    assert production.cors_origin_list == []
    assert Settings(environment="development", cors_origins="").cors_origin_list == []
