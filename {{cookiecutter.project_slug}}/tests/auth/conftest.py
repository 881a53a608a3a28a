"""Fixtures of the auth option: a client without credentials, users, and signing in."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from {{ cookiecutter.__package_name }}.auth.users import Account

from tests.conftest import forget_everything, services

TOKEN = "/api/v1/auth/token"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
USERS = "/api/v1/users"
ITEMS = "/api/v1/items"
CATEGORIES = "/api/v1/categories"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client of the app that sends no credentials; what the test wrote is gone after it."""
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        await forget_everything(services(app))


async def new_user(
    app: FastAPI,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    scopes: Sequence[str] = (),
    superuser: bool = False,
) -> Account:
    account = await services(app).auth.users.create(
        email, password, superuser=superuser, scopes=scopes
    )
    assert account is not None
    return account


async def sign_in(
    client: AsyncClient, email: str = "ada@example.com", password: str = PASSWORD, scope: str = ""
) -> Response:
    form = {"grant_type": "password", "username": email, "password": password, "scope": scope}
    return await client.post(TOKEN, data=form)


async def refresh(client: AsyncClient, refresh_token: str, scope: str = "") -> Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope}
    return await client.post(TOKEN, data=form)


async def tokens(client: AsyncClient, **sign_in_as: Any) -> dict[str, Any]:
    """What a successful sign-in answers."""
    response = await sign_in(client, **sign_in_as)
    assert response.status_code == 200, response.text
    answered: dict[str, Any] = response.json()
    return answered


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}
