"""Users: the first superuser, and what superusers do with accounts."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.__package_name }}.auth.users import ensure_first_superuser
from {{ cookiecutter.__package_name }}.core.config import PLACEHOLDER, Settings

from tests.auth.conftest import PASSWORD, USERS, new_user, sign_in
from tests.conftest import PRODUCTION_SECRETS, services

ADA = {"email": "ada@example.com", "password": PASSWORD, "scopes": ["items:write"]}


async def test_the_first_superuser_is_created_once_and_signs_in(
    app: FastAPI, settings: Settings, anonymous: AsyncClient
) -> None:
    users = services(app).auth.users
    await ensure_first_superuser(users, settings)
    await ensure_first_superuser(
        users, settings.model_copy(update={"first_superuser": "ADMIN@example.com"})
    )

    accounts = await users.page(limit=100, offset=0)
    signed_in = await sign_in(anonymous, email=settings.first_superuser, password=PLACEHOLDER)

    assert [(a.email, a.is_superuser) for a in accounts] == [(settings.first_superuser, True)]
    assert signed_in.status_code == 200, signed_in.text


@pytest.mark.parametrize(
    "password", [PLACEHOLDER, "change-me-please", "short", "aaaaaaaaaaaaaaaa", "abababababababab"]
)
def test_production_refuses_a_placeholder_or_weak_superuser_password(
    settings: Settings, password: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            environment="production",
            database_url=settings.database_url,
            **{**PRODUCTION_SECRETS, "first_superuser_password": SecretStr(password)},
        )

    [problem] = refused.value.errors()
    assert problem["msg"] == (
        "Value error, Refusing to start in production: FIRST_SUPERUSER_PASSWORD must be at "
        "least 12 characters, not the placeholder nor a repetition."
    )


def test_production_refuses_a_weak_previous_secret_key(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="PREVIOUS_SECRET_KEY must be at least 32"):
        Settings(
            environment="production",
            database_url=settings.database_url,
            previous_secret_key=SecretStr("old"),
            **PRODUCTION_SECRETS,
        )


async def test_superusers_create_list_read_and_change_users(client: AsyncClient) -> None:
    created = await client.post(USERS, json=ADA)
    user = created.json()
    listed = await client.get(USERS)
    read = await client.get(f"{USERS}/{user['id']}")
    changed = await client.patch(
        f"{USERS}/{user['id']}", json={"scopes": ["items:read"], "is_superuser": True}
    )

    assert created.status_code == 201, created.text
    assert user == {
        "id": user["id"],
        "email": "ada@example.com",
        "is_active": True,
        "is_superuser": False,
        "scopes": ["items:write"],
    }
    assert "password" not in created.text
    assert "hash" not in created.text
    assert [entry["email"] for entry in listed.json()] == ["ada@example.com"]
    assert read.json() == user
    assert changed.json() == {**user, "scopes": ["items:read"], "is_superuser": True}


async def test_an_email_is_one_user_whatever_its_case(app: FastAPI, client: AsyncClient) -> None:
    await new_user(app, email="ada@example.com")
    bob = await new_user(app, email="bob@example.com")

    again = await client.post(USERS, json={**ADA, "email": "Ada@Example.COM"})
    renamed = await client.patch(f"{USERS}/{bob.id}", json={"email": "ADA@example.com"})

    assert (again.status_code, renamed.status_code) == (409, 409)
    assert again.json()["detail"] == "A user with this email exists"


async def test_an_unknown_user_is_404_and_bad_input_422(client: AsyncClient) -> None:
    assert (await client.get(f"{USERS}/999999")).status_code == 404
    assert (await client.patch(f"{USERS}/999999", json={"is_active": False})).status_code == 404
    for body in [
        {**ADA, "password": "too short"},
        {**ADA, "email": "not an email"},
        {**ADA, "scopes": ["Items Write"]},
        {**ADA, "is_admin": True},
    ]:
        assert (await client.post(USERS, json=body)).status_code == 422, body
    assert (await client.patch(f"{USERS}/1", json={"password": None})).status_code == 422
