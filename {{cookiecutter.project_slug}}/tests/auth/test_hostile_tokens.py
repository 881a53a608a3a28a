"""Tokens an attacker would try, each a 401: forged, expired, meant for someone else."""

import base64
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from jwt.warnings import InsecureKeyLengthWarning
from pydantic import SecretStr

from {{ cookiecutter.__package_name }}.auth.tokens import LocalTokens, signing_key
from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.auth.conftest import ITEMS, bearer
from tests.conftest import ClientFactory

LAMP = {"name": "Lamp", "price": 9}


def claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """What the service's own token for a superuser says, with `overrides`."""
    now = int(time.time())
    issuer = f"urn:{settings.app_name}"
    return {
        "iss": issuer,
        "aud": issuer,
        "sub": "user:1",
        "scope": "",
        "su": True,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        **overrides,
    }


def signed(settings: Settings, **overrides: Any) -> str:
    return jwt.encode(claims(settings, **overrides), signing_key(settings.secret_key), "HS256")


def segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(settings: Settings) -> str:
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims(settings))}."


def tampered(settings: Settings) -> str:
    """A valid token for a user without scopes, its payload made a superuser's."""
    header, _, signature = signed(settings, su=False).split(".")
    return f"{header}.{segment(claims(settings, su=True))}.{signature}"


def other_secret(settings: Settings) -> str:
    return jwt.encode(claims(settings), "an-entirely-different-secret-of-32-bytes", "HS256")


def raw_secret(settings: Settings) -> str:
    """Signed with SECRET_KEY itself, not with the key derived for tokens."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)  # the test settings' key
        return jwt.encode(claims(settings), settings.secret_key.get_secret_value(), "HS256")


HOSTILE: dict[str, Callable[[Settings], str]] = {
    "alg none": unsigned,
    "expired": lambda settings: signed(settings, exp=int(time.time()) - 120),
    "not yet valid": lambda settings: signed(settings, nbf=int(time.time()) + 120),
    "wrong audience": lambda settings: signed(settings, aud="urn:another-service"),
    "wrong issuer": lambda settings: signed(settings, iss="urn:another-service"),
    "no subject": lambda settings: signed(settings, sub=None),
    "no expiry": lambda settings: signed(settings, exp=None),
    "tampered payload": tampered,
    "another secret": other_secret,
    "the raw SECRET_KEY": raw_secret,
    "not a JWT": lambda settings: "definitely-not-a-token",
    "three dots": lambda settings: "a.b.c",
    "empty segments": lambda settings: "..",
}


@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_token_is_401(
    name: str, settings: Settings, anonymous: AsyncClient
) -> None:
    token = HOSTILE[name](settings)

    response = await anonymous.post(ITEMS, json=LAMP, headers=bearer(token))

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_the_same_claims_properly_signed_are_accepted(
    settings: Settings, anonymous: AsyncClient
) -> None:
    """The hostile tokens above fail for what is wrong with them, not for their claims."""
    response = await anonymous.post(ITEMS, json=LAMP, headers=bearer(signed(settings)))

    assert response.status_code == 201, response.text


async def test_a_token_signed_with_the_previous_secret_key_is_accepted_while_rotating(
    settings: Settings, client_for: ClientFactory
) -> None:
    old = LocalTokens(settings).issue(1, ["items:write"], superuser=False)[0]
    rotated = {"secret_key": SecretStr("a-new-secret-key-" + "0123456789abcdef" * 2)}

    async with client_for(**rotated, previous_secret_key=settings.secret_key) as client:
        during = await client.post(ITEMS, json=LAMP, headers=bearer(old))
    async with client_for(**rotated) as client:
        after = await client.post(ITEMS, json=LAMP, headers=bearer(old))

    assert during.status_code == 201, during.text
    assert after.status_code == 401
