"""Failed sign-ins counted in Redis: every worker and replica sees the same count."""

import pytest
from fastapi import FastAPI, HTTPException
from httpx import AsyncClient
from limits.aio.storage import RedisStorage

from {{ cookiecutter.__package_name }}.auth.throttle import LoginThrottle
from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.auth.conftest import PASSWORD, new_user, sign_in
from tests.auth.test_throttle import WRONG, throttled
from tests.conftest import ClientFactory


async def test_every_worker_counts_the_same_failures(
    app: FastAPI, anonymous: AsyncClient, client_for: ClientFactory
) -> None:
    """Apps are workers (or replicas): their failures add up, in Redis."""
    await new_user(app)
    here = [await sign_in(anonymous, password=WRONG) for _ in range(3)]
    async with client_for() as second_worker:
        there = [await sign_in(second_worker, password=WRONG) for _ in range(2)]
        async with client_for() as third_worker:
            locked = await sign_in(third_worker, password=PASSWORD)

    assert [response.status_code for response in here + there] == [400] * 5
    assert throttled(locked)


async def test_without_redis_each_worker_still_counts_on_its_own(settings: Settings) -> None:
    """Redis unreachable: no shared count, but never no limit at all."""
    unreachable = RedisStorage(
        "async+redis://127.0.0.1:1", implementation="redispy", wrap_exceptions=True
    )
    throttle = LoginThrottle(settings, unreachable)

    for _ in range(5):
        await throttle.check("ada@example.com", "10.0.0.1")
        await throttle.failed("ada@example.com", "10.0.0.1")
    with pytest.raises(HTTPException) as refused:
        await throttle.check("ada@example.com", "10.0.0.1")

    assert refused.value.status_code == 429
