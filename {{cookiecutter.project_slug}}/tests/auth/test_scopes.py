"""Who may do what: `<plural>:write` for writes, `<plural>:read` for protected reads."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.auth.conftest import CATEGORIES, ITEMS, ME, USERS, bearer, new_user, tokens
from tests.conftest import ClientFactory, created, services

LAMP = {"name": "Lamp", "price": 9}


def token(app: FastAPI, *scopes: str, superuser: bool = False) -> dict[str, str]:
    access_token, _ = services(app).auth.tokens.issue(7, list(scopes), superuser)
    return bearer(access_token)


def refused(response: Any, status: int, challenge: str, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.json()["detail"] == detail
    assert "x-cache" not in response.headers


async def test_a_write_without_a_token_is_401_with_a_bearer_challenge(
    anonymous: AsyncClient,
) -> None:
    for method, path in [("POST", ITEMS), ("PATCH", f"{ITEMS}/1"), ("DELETE", f"{ITEMS}/1")]:
        response = await anonymous.request(method, path, json=LAMP)
        refused(response, 401, "Bearer", "Not authenticated")


async def test_a_token_that_is_not_valid_is_401_invalid_token(anonymous: AsyncClient) -> None:
    response = await anonymous.post(ITEMS, json=LAMP, headers=bearer("not.a.token"))

    refused(response, 401, 'Bearer error="invalid_token"', "The token is not valid")


async def test_a_token_without_the_write_scope_is_403_naming_it(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    reader = token(app, "items:read", "categories:write")

    response = await anonymous.post(ITEMS, json=LAMP, headers=reader)

    challenge = 'Bearer error="insufficient_scope" scope="items:write"'
    refused(response, 403, challenge, "The token lacks a scope this needs")


async def test_the_write_scope_allows_every_write_of_its_resource_only(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    writer = token(app, "items:write")

    item = (await anonymous.post(ITEMS, json=LAMP, headers=writer)).json()
    changed = await anonymous.patch(f"{ITEMS}/{item['id']}", json={"price": 8}, headers=writer)
    deleted = await anonymous.delete(f"{ITEMS}/{item['id']}", headers=writer)
    category = await anonymous.post(CATEGORIES, json={"name": "Tools"}, headers=writer)

    assert (changed.status_code, deleted.status_code) == (200, 204)
    assert category.status_code == 403


async def test_a_superuser_holds_every_scope(app: FastAPI, anonymous: AsyncClient) -> None:
    superuser = token(app, superuser=True)

    assert (await anonymous.post(ITEMS, json=LAMP, headers=superuser)).status_code == 201
    assert (
        await anonymous.post(CATEGORIES, json={"name": "T"}, headers=superuser)
    ).status_code == 201


async def test_reads_are_public_unless_protected(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    item = await created(client, ITEMS, LAMP)

    one = await anonymous.get(f"{ITEMS}/{item['id']}")
    page = await anonymous.get(ITEMS)

    assert (one.status_code, page.status_code) == (200, 200)


async def test_protected_reads_need_the_read_scope(app: FastAPI, client_for: ClientFactory) -> None:
    async with client_for(auth_protected_reads="items") as client:
        item = await created(client, ITEMS, LAMP)
        one, page = f"{ITEMS}/{item['id']}", ITEMS
        anonymous = [await client.get(path, headers={"Authorization": ""}) for path in (one, page)]
        writer = [await client.get(path, headers=token(app, "items:write")) for path in (one, page)]
        reader = [await client.get(path, headers=token(app, "items:read")) for path in (one, page)]
        categories = await client.get(CATEGORIES, headers={"Authorization": ""})

    for response in anonymous:
        refused(response, 401, "Bearer", "Not authenticated")
    challenge = 'Bearer error="insufficient_scope" scope="items:read"'
    for response in writer:
        refused(response, 403, challenge, "The token lacks a scope this needs")
    assert [response.status_code for response in reader] == [200, 200]
    assert categories.status_code == 200


async def test_a_star_protects_every_resources_reads(
    app: FastAPI, client_for: ClientFactory
) -> None:
    async with client_for(auth_protected_reads="*") as client:
        responses = [
            await client.get(path, headers={"Authorization": ""}) for path in (ITEMS, CATEGORIES)
        ]

    assert [response.status_code for response in responses] == [401, 401]


async def test_a_cached_read_is_never_answered_before_the_check(
    app: FastAPI, client_for: ClientFactory
) -> None:
    """Filled by an authorised reader, the cache still answers nobody else first."""
    async with client_for(auth_protected_reads="items") as client:
        item = await created(client, ITEMS, LAMP)
        path = f"{ITEMS}/{item['id']}"
        filled = [await client.get(path, headers=token(app, "items:read")) for _ in range(2)]
        anonymous = await client.get(path, headers={"Authorization": ""})
        forbidden = await client.get(path, headers=token(app, "categories:read"))

    assert [response.status_code for response in filled] == [200, 200]
{% if cookiecutter.use_redis %}
    assert [response.headers["x-cache"] for response in filled] == ["miss", "hit"]
{% endif %}
    refused(anonymous, 401, "Bearer", "Not authenticated")
    assert forbidden.status_code == 403
    assert "x-cache" not in forbidden.headers


async def test_answers_about_the_caller_are_never_cached(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    await new_user(app, superuser=True)
    signed_in = bearer((await tokens(anonymous))["access_token"])

    responses = [await anonymous.get(path, headers=signed_in) for path in (ME, ME, USERS)]

    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert "x-cache" not in response.headers
        assert "etag" not in response.headers


async def test_accounts_are_the_superusers_business(app: FastAPI, anonymous: AsyncClient) -> None:
    everything = token(app, "items:write", "categories:write", "users:write")

    listed = await anonymous.get(USERS, headers=everything)
    me = await anonymous.get(ME, headers=everything)
    nobody = await anonymous.get(ME)

    assert listed.status_code == 403
    assert me.status_code == 200
    assert me.json()["user"] is None  # no local account has id 7
    refused(nobody, 401, "Bearer", "Not authenticated")
