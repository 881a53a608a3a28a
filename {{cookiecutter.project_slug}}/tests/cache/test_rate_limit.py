"""Rate limiting in Redis: headers, 429 with Retry-After, atomic under load, proxies."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from {{ cookiecutter.__package_name }}.cache.rate_limit import client_address

from tests.conftest import ClientFactory

ITEMS = "/api/v1/items"


def limited(prefix: str, requests: int, **overrides: Any) -> dict[str, Any]:
    """Overrides that turn the limit on, under the test's own key prefix."""
    return {
        "rate_limit_enabled": True,
        "rate_limit_requests": requests,
        "rate_limit_window_seconds": 60,
        "redis_key_prefix": prefix,
        **overrides,
    }


async def test_requests_over_the_limit_get_429_with_retry_after(
    prefix: str, client_for: ClientFactory
) -> None:
    async with client_for(**limited(prefix, 3)) as client:
        allowed = [await client.get(ITEMS) for _ in range(3)]
        refused = await client.get(ITEMS)

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response.headers["ratelimit-remaining"] for response in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["ratelimit-limit"] == "3"
    assert 0 < int(allowed[0].headers["ratelimit-reset"]) <= 60
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.json() == {
        "detail": "Too Many Requests",
        "request_id": refused.headers["x-request-id"],
    }


async def test_probes_are_never_limited(prefix: str, client_for: ClientFactory) -> None:
    async with client_for(**limited(prefix, 1)) as client:
        statuses = [(await client.get("/health")).status_code for _ in range(5)]

    assert statuses == [200] * 5


async def test_the_limit_holds_under_concurrent_requests(
    prefix: str, client_for: ClientFactory
) -> None:
    # Timeouts wide enough that a busy machine cannot make a call give up (and pass).
    overrides = limited(prefix, 5, redis_socket_timeout=30, redis_pool_timeout=30)
    async with client_for(**overrides) as client:
        responses = await asyncio.gather(*(client.get(ITEMS) for _ in range(20)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 15


@pytest.mark.heavy
async def test_a_burst_larger_than_the_pool_is_counted_exactly_and_redis_stays_in_use(
    prefix: str, client_for: ClientFactory
) -> None:
    """Requests queue for the few connections; none is let through for want of one."""
    apps: list[FastAPI] = []
    overrides = limited(prefix, 20, redis_max_connections=4, redis_pool_timeout=30)
    async with client_for(apps.append, **overrides) as client:
        responses = await asyncio.gather(*(client.get(ITEMS) for _ in range(300)))
        guard_available = apps[0].state.redis_guard.available()

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 20 + [429] * 280
    assert guard_available


@pytest.mark.heavy
async def test_requests_pass_when_redis_is_down(prefix: str, client_for: ClientFactory) -> None:
    overrides = limited(prefix, 1, redis_url="redis://127.0.0.1:9/0")
    async with client_for(**overrides) as client:
        statuses = [(await client.get(ITEMS)).status_code for _ in range(3)]

    assert statuses == [200] * 3


async def statuses_from(app: FastAPI, peer: str, forwarded_for: list[str]) -> list[int]:
    """One request per X-Forwarded-For value, from one peer, through uvicorn's proxy headers.

    FORWARDED_ALLOW_IPS=* (as behind a Kubernetes ingress) makes uvicorn trust the peer.
    """
    proxied = ProxyHeadersMiddleware(app, trusted_hosts="*")  # type: ignore[arg-type]
    transport = ASGITransport(app=proxied, client=(peer, 40_000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        return [
            (await client.get(ITEMS, headers={"X-Forwarded-For": value})).status_code
            for value in forwarded_for
        ]


async def test_behind_a_proxy_a_forged_forwarded_for_gets_no_bucket_of_its_own(
    prefix: str, client_for: ClientFactory
) -> None:
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 5, rate_limit_trusted_hops=1)):
        # The client writes the first address; the ingress appends the one it saw.
        forged = [f"198.51.100.{n}, 203.0.113.7" for n in range(8)]
        statuses = await statuses_from(apps[0], "10.0.0.2", forged)

    assert statuses == [200] * 5 + [429] * 3


async def test_behind_a_proxy_each_client_has_its_own_bucket(
    prefix: str, client_for: ClientFactory
) -> None:
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 1, rate_limit_trusted_hops=1)):
        statuses = await statuses_from(apps[0], "10.0.0.2", ["203.0.113.7", "203.0.113.8"] * 2)

    assert statuses == [200, 200, 429, 429]


async def test_without_trusted_hops_the_connecting_address_is_the_client(
    prefix: str, client_for: ClientFactory
) -> None:
    forged = [f"198.51.100.{n}" for n in range(8)]
    async with client_for(**limited(prefix, 5)) as client:
        statuses = [
            (await client.get(ITEMS, headers={"X-Forwarded-For": value})).status_code
            for value in forged
        ]

    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "client"),
    [
        (0, "198.51.100.1", "10.0.0.2"),
        (1, None, "10.0.0.2"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1,, 203.0.113.7 ", "203.0.113.7"),
    ],
)
def test_the_client_is_read_from_the_right_of_x_forwarded_for(
    hops: int, forwarded_for: str | None, client: str
) -> None:
    headers = [] if forwarded_for is None else [(b"x-forwarded-for", forwarded_for.encode())]
    scope = {"type": "http", "client": ("10.0.0.2", 40_000), "headers": headers}

    assert client_address(scope, hops) == client
