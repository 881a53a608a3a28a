"""Rate limiting in Redis: headers, 429 with Retry-After, atomic under concurrency."""

import asyncio
from uuid import uuid4

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory


def limited(settings: Settings, requests: int) -> dict[str, object]:
    """Overrides that turn the limit on, under a key prefix of this test's own."""
    return {
        "rate_limit_enabled": True,
        "rate_limit_requests": requests,
        "rate_limit_window_seconds": 60,
        "redis_key_prefix": f"{settings.redis_key_prefix}{uuid4().hex}:",
    }


async def test_requests_over_the_limit_get_429_with_retry_after(
    settings: Settings, client_for: ClientFactory
) -> None:
    async with client_for(**limited(settings, 3)) as client:
        allowed = [await client.get("/api/v1/items") for _ in range(3)]
        refused = await client.get("/api/v1/items")

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response.headers["ratelimit-remaining"] for response in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["ratelimit-limit"] == "3"
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.json() == {
        "detail": "Too Many Requests",
        "request_id": refused.headers["x-request-id"],
    }


async def test_probes_are_never_limited(settings: Settings, client_for: ClientFactory) -> None:
    async with client_for(**limited(settings, 1)) as client:
        statuses = [(await client.get("/health")).status_code for _ in range(5)]

    assert statuses == [200] * 5


async def test_the_limit_holds_under_concurrent_requests(
    settings: Settings, client_for: ClientFactory
) -> None:
    async with client_for(**limited(settings, 5)) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/items") for _ in range(20)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 15


async def test_requests_pass_when_redis_is_down(
    settings: Settings, client_for: ClientFactory
) -> None:
    overrides = {**limited(settings, 1), "redis_url": "redis://127.0.0.1:9/0"}
    async with client_for(**overrides) as client:
        statuses = [(await client.get("/api/v1/items")).status_code for _ in range(3)]

    assert statuses == [200] * 3
