"""Signing in, and the tokens: the password flow, rotating refresh tokens, logout."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pwdlib.hashers.bcrypt import BcryptHasher
from sqlalchemy import update

from {{ cookiecutter.__package_name }}.db import Statement
from {{ cookiecutter.__package_name }}.models.users import RefreshToken

from tests.auth.conftest import (
    CATEGORIES,
    ITEMS,
    LOGOUT,
    ME,
    PASSWORD,
    TOKEN,
    USERS,
    bearer,
    new_user,
    refresh,
    sign_in,
    tokens,
)
from tests.conftest import services

EXPIRE_EVERY_TOKEN = Statement(
    update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
)


def oauth_error(response: Any, error: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def test_a_password_signs_in_and_its_token_works(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    user = await new_user(app, scopes=["items:write", "categories:write"])

    response = await sign_in(anonymous, email="ADA@Example.com")
    body = response.json()
    signed_in = bearer(body["access_token"])
    created = await anonymous.post(ITEMS, json={"name": "Lamp", "price": 9}, headers=signed_in)
    me = await anonymous.get(ME, headers=signed_in)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["scope"] == "items:write categories:write"
    assert body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    assert created.status_code == 201, created.text
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert me.json() == {
        "subject": f"user:{user.id}",
        "scopes": ["categories:write", "items:write"],
        "superuser": False,
        "user": {
            "id": user.id,
            "email": "ada@example.com",
            "is_active": True,
            "is_superuser": False,
            "scopes": ["items:write", "categories:write"],
        },
    }


async def test_a_sign_in_may_ask_for_fewer_scopes_never_for_more(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    await new_user(app, scopes=["items:write", "categories:write"])

    fewer = await sign_in(anonymous, scope="items:write")
    more = await sign_in(anonymous, scope="items:write users:admin")
    narrowed = await refresh(anonymous, fewer.json()["refresh_token"], scope="items:write")
    widened = await refresh(anonymous, narrowed.json()["refresh_token"], scope="categories:write")
    token = bearer(narrowed.json()["access_token"])

    assert fewer.json()["scope"] == "items:write"
    oauth_error(more, "invalid_scope")
    assert narrowed.json()["scope"] == "items:write"
    oauth_error(widened, "invalid_scope")
    assert (
        await anonymous.post(CATEGORIES, json={"name": "Tools"}, headers=token)
    ).status_code == 403


async def test_wrong_passwords_unknown_emails_and_inactive_users_are_one_invalid_grant(
    app: FastAPI, client: AsyncClient, anonymous: AsyncClient
) -> None:
    user = await new_user(app)
    wrong = await sign_in(anonymous, password="not the password at all")
    unknown = await sign_in(anonymous, email="nobody@example.com")
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False})
    inactive = await sign_in(anonymous)

    for response in (wrong, unknown, inactive):
        oauth_error(response, "invalid_grant")
        assert response.json()["error_description"] == "Incorrect email or password"


async def test_an_unknown_email_costs_a_password_hash_as_a_wrong_password_does(
    app: FastAPI, anonymous: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an answer's timing could tell: both check the password against an Argon2 hash
    of the same cost, so both take as long."""
    await new_user(app)
    hasher = services(app).auth.passwords.hasher
    checked: list[str] = []
    verify = hasher.verify_and_update

    def counting(password: str, hash: str) -> tuple[bool, str | None]:
        checked.append(hash)
        return verify(password, hash)

    monkeypatch.setattr(hasher, "verify_and_update", counting)
    await sign_in(anonymous, password="not the password at all")
    await sign_in(anonymous, email="nobody@example.com")

    assert len(checked) == 2
    cost = [hash.split("$")[1:4] for hash in checked]
    assert cost[0] == cost[1]
    assert cost[0][0] == "argon2id"


async def test_a_bcrypt_hash_is_accepted_and_replaced_by_argon2(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    users = services(app).auth.users
    user = await new_user(app)
    await users.rehashed(user, BcryptHasher().hash(PASSWORD))

    signed_in = await sign_in(anonymous)
    stored = await users.by_id(user.id)

    assert signed_in.status_code == 200, signed_in.text
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert (await sign_in(anonymous)).status_code == 200


async def test_a_refresh_token_works_once_and_its_reuse_ends_the_whole_family(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    await new_user(app, scopes=["items:write"])
    first = await tokens(anonymous)
    elsewhere = await tokens(anonymous)  # another sign-in: another family

    second = (await refresh(anonymous, first["refresh_token"])).json()
    third = (await refresh(anonymous, second["refresh_token"])).json()
    reused = await refresh(anonymous, first["refresh_token"])
    successor = await refresh(anonymous, third["refresh_token"])
    reused_again = await refresh(anonymous, second["refresh_token"])
    other_family = await refresh(anonymous, elsewhere["refresh_token"])

    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert third["scope"] == "items:write"
    oauth_error(reused, "invalid_grant")
    assert reused.json()["error_description"] == "The refresh token was already used"
    oauth_error(successor, "invalid_grant")
    oauth_error(reused_again, "invalid_grant")
    assert other_family.status_code == 200, other_family.text


async def test_a_refreshed_access_token_works(app: FastAPI, anonymous: AsyncClient) -> None:
    await new_user(app, scopes=["items:write"])
    renewed = (await refresh(anonymous, (await tokens(anonymous))["refresh_token"])).json()

    created = await anonymous.post(
        ITEMS, json={"name": "Lamp", "price": 9}, headers=bearer(renewed["access_token"])
    )

    assert created.status_code == 201, created.text


async def test_logout_ends_the_sign_in(app: FastAPI, anonymous: AsyncClient) -> None:
    await new_user(app)
    signed_in = await tokens(anonymous)

    out = await anonymous.post(LOGOUT, data={"refresh_token": signed_in["refresh_token"]})
    unknown = await anonymous.post(LOGOUT, data={"refresh_token": "never-issued"})

    assert out.status_code == unknown.status_code == 204
    oauth_error(await refresh(anonymous, signed_in["refresh_token"]), "invalid_grant")


async def test_deactivating_a_user_or_changing_their_password_ends_their_sessions(
    app: FastAPI, client: AsyncClient, anonymous: AsyncClient
) -> None:
    user = await new_user(app)
    before_deactivation = await tokens(anonymous)
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False})
    after_deactivation = await refresh(anonymous, before_deactivation["refresh_token"])
    await client.patch(f"{USERS}/{user.id}", json={"is_active": True})
    before_new_password = await tokens(anonymous)
    await client.patch(f"{USERS}/{user.id}", json={"password": "another long passphrase"})
    after_new_password = await refresh(anonymous, before_new_password["refresh_token"])

    oauth_error(after_deactivation, "invalid_grant")
    oauth_error(after_new_password, "invalid_grant")
    assert (await sign_in(anonymous, password="another long passphrase")).status_code == 200


async def test_an_expired_refresh_token_is_refused(app: FastAPI, anonymous: AsyncClient) -> None:
    await new_user(app)
    signed_in = await tokens(anonymous)
    await services(app).store.database.fetch_all(EXPIRE_EVERY_TOKEN)

    oauth_error(await refresh(anonymous, signed_in["refresh_token"]), "invalid_grant")


async def test_a_malformed_token_request_is_an_oauth_error(anonymous: AsyncClient) -> None:
    no_password = await anonymous.post(TOKEN, data={"grant_type": "password"})
    no_token = await anonymous.post(TOKEN, data={"grant_type": "refresh_token"})
    other_grant = await anonymous.post(TOKEN, data={"grant_type": "client_credentials"})

    oauth_error(no_password, "invalid_request")
    oauth_error(no_token, "invalid_request")
    oauth_error(other_grant, "unsupported_grant_type")
