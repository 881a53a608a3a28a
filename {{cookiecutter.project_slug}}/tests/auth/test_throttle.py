"""Failed sign-ins are limited per account and per client address: then a 429."""

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.auth.conftest import new_user, sign_in
from tests.conftest import ClientFactory

WRONG = "not the password at all"


def throttled(response: Response) -> bool:
    if response.status_code != 429:
        return False
    assert 1 <= int(response.headers["retry-after"]) <= 900
    assert response.json()["detail"].startswith("Too many failed sign-ins")
    return True


async def test_an_account_is_locked_after_its_failures_even_for_the_right_password(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    await new_user(app)
    await new_user(app, email="bob@example.com")
    failures = [await sign_in(anonymous, password=WRONG) for _ in range(5)]

    locked = await sign_in(anonymous)
    other_account = await sign_in(anonymous, email="bob@example.com")

    assert [response.status_code for response in failures] == [400] * 5
    assert throttled(locked)
    assert other_account.status_code == 200, other_account.text


async def test_a_success_starts_the_accounts_count_again(
    app: FastAPI, anonymous: AsyncClient
) -> None:
    await new_user(app)
    for _ in range(4):
        await sign_in(anonymous, password=WRONG)
    assert (await sign_in(anonymous)).status_code == 200

    again = [await sign_in(anonymous, password=WRONG) for _ in range(4)]

    assert [response.status_code for response in again] == [400] * 4
    assert (await sign_in(anonymous)).status_code == 200


async def test_an_address_is_limited_across_accounts(client_for: ClientFactory) -> None:
    """Guessing one password for many accounts: each account fails once, the address often."""
    async with client_for(login_attempts_per_address=3) as client:
        guesses = [
            await sign_in(client, email=f"user{n}@example.com", password=WRONG) for n in range(4)
        ]

    assert [response.status_code for response in guesses[:3]] == [400] * 3
    assert throttled(guesses[3])


async def test_unknown_emails_are_counted_too(anonymous: AsyncClient) -> None:
    failures = [await sign_in(anonymous, email="nobody@example.com") for _ in range(6)]

    assert [response.status_code for response in failures[:5]] == [400] * 5
    assert throttled(failures[5])
