"""Tokens of an OpenID Connect provider: a real one on loopback, whose keys rotate."""

import asyncio
import base64
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from httpx import AsyncClient, Response

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.auth.conftest import ITEMS, ME, bearer
from tests.auth.provider import AUDIENCE, Provider, SigningKey
from tests.auth.test_hostile_tokens import segment, signed
from tests.conftest import ClientFactory

LAMP = {"name": "Lamp", "price": 9}


@pytest.fixture
def provider() -> Iterator[Provider]:
    provider = Provider()
    try:
        yield provider
    finally:
        provider.stop()


@asynccontextmanager
async def trusting(
    client_for: ClientFactory, provider: Provider, **overrides: Any
) -> AsyncIterator[AsyncClient]:
    """A client, without credentials, of an app that accepts the provider's tokens."""
    settings = {"oidc_issuer_url": provider.issuer, "oidc_audience": AUDIENCE, **overrides}
    async with client_for(**settings) as client:
        client.headers.pop("Authorization", None)
        yield client


async def write(client: AsyncClient, token: str) -> Response:
    return await client.post(ITEMS, json=LAMP, headers=bearer(token))


async def test_a_providers_token_is_accepted_with_its_scopes(
    client_for: ClientFactory, provider: Provider
) -> None:
    async with trusting(client_for, provider) as client:
        created = await write(client, provider.token(scope="items:write"))
        as_a_list = await write(client, provider.token(scope=None, scp=["items:write"]))
        without = await write(client, provider.token(scope="items:read"))
        me = await client.get(ME, headers=bearer(provider.token(scope="items:write")))

    assert (created.status_code, as_a_list.status_code) == (201, 201), created.text
    assert without.status_code == 403
    assert me.json() == {
        "subject": "oidc:client-42",
        "scopes": ["items:write"],
        "superuser": False,
        "user": None,
    }


async def test_the_services_own_tokens_are_accepted_beside_the_providers(
    client_for: ClientFactory, provider: Provider, settings: Settings
) -> None:
    async with trusting(client_for, provider) as client:
        own = await write(client, signed(settings))
        theirs = await write(client, provider.token())

    assert (own.status_code, theirs.status_code) == (201, 201)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 120},
        {"nbf": int(time.time()) + 120},
        {"aud": "another-service"},
        {"iss": "http://127.0.0.1:1"},
        {"sub": None},
    ],
    ids=["expired", "not yet valid", "wrong audience", "wrong issuer", "no subject"],
)
async def test_a_providers_token_that_is_not_valid_is_401(
    client_for: ClientFactory, provider: Provider, claims: dict[str, Any]
) -> None:
    async with trusting(client_for, provider) as client:
        response = await write(client, provider.token(**claims))

    assert response.status_code == 401, response.text


async def test_a_foreign_key_with_a_known_kid_is_401(
    client_for: ClientFactory, provider: Provider
) -> None:
    async with trusting(client_for, provider) as client:
        known = await write(client, provider.token())
        forged = await write(client, provider.token(key=SigningKey(), kid=provider.key.kid))

    assert known.status_code == 201
    assert forged.status_code == 401


async def test_hmac_keyed_with_the_providers_public_key_is_401(
    client_for: ClientFactory, provider: Provider
) -> None:
    """The classic confusion: HS256 with the public key (which anyone has) as its secret."""
    public = provider.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = segment({"alg": "HS256", "typ": "JWT", "kid": provider.key.kid})
    signing_input = f"{header}.{segment(provider.claims())}"
    # By hand: PyJWT itself refuses to use a public key as an HMAC secret.
    signature = hmac.digest(public, signing_input.encode(), "sha256")
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    async with trusting(client_for, provider) as client:
        response = await write(client, token)

    assert response.status_code == 401


async def test_alg_none_from_the_providers_issuer_is_401(
    client_for: ClientFactory, provider: Provider
) -> None:
    token = jwt.encode(provider.claims(), "", algorithm="none", headers={"kid": provider.key.kid})

    async with trusting(client_for, provider) as client:
        response = await write(client, token)

    assert response.status_code == 401


async def test_a_key_rotation_is_followed_without_a_restart(
    client_for: ClientFactory, provider: Provider
) -> None:
    async with trusting(client_for, provider, oidc_refetch_seconds=0.2) as client:
        before = await write(client, provider.token())
        old_key = provider.key
        provider.rotate()
        await asyncio.sleep(0.3)
        after = await write(client, provider.token())
        retired = await write(client, provider.token(key=old_key, sub="client-43"))

    assert (before.status_code, after.status_code) == (201, 201), after.text
    assert retired.status_code == 401
    assert provider.jwks_fetches == 2


async def test_unknown_keys_cannot_make_it_hammer_the_provider(
    client_for: ClientFactory, provider: Provider
) -> None:
    async with trusting(client_for, provider, oidc_refetch_seconds=60) as client:
        garbage = [
            await write(client, provider.token(key=SigningKey(), kid=f"kid-{n}")) for n in range(3)
        ]
        known = [await write(client, provider.token(sub=f"client-{n}")) for n in range(20)]

    assert [response.status_code for response in garbage] == [401] * 3
    assert {response.status_code for response in known} == {201}
    assert provider.jwks_fetches == 1


async def test_while_the_provider_is_down_cached_keys_still_work_and_unknown_ones_are_503(
    client_for: ClientFactory, provider: Provider
) -> None:
    async with trusting(client_for, provider, oidc_refetch_seconds=0.1) as client:
        assert (await write(client, provider.token())).status_code == 201
        provider.stop()
        await asyncio.sleep(0.2)
        cached = await write(client, provider.token(sub="someone-else"))
        unknown = await write(client, provider.token(key=SigningKey()))

    assert cached.status_code == 201
    assert unknown.status_code == 503
    assert unknown.headers["retry-after"] == "5"
