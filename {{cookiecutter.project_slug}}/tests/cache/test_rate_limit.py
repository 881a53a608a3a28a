"""The rate limit in Redis: the 429, what is never limited, exact counts under load,
outages, and which client a request behind proxies is counted under."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from {{ cookiecutter.__package_name }}.cache.rate_limit import TOO_MANY_REQUESTS
from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory
from tests.tcp_proxy import TcpProxy

ITEMS = "/api/v1/items"
PROBES = ["/health", "/ready", "/metrics"]


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
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
    assert refused.json() == {
        "detail": TOO_MANY_REQUESTS,
        "request_id": refused.headers["x-request-id"],
    }


async def test_every_api_request_counts_whatever_its_answer(
    prefix: str, client_for: ClientFactory
) -> None:
    """A 404, a 422 and a write use the window as a read does; so does a cache hit."""
    async with client_for(**limited(prefix, 5)) as client:
        created = await client.post(ITEMS, json={"name": "Lamp", "price": 9})
        url = f"{ITEMS}/{created.json()['id']}"
        answered = [
            created,
            await client.get(url),
            await client.get(url),
            await client.get(f"{ITEMS}/424242"),
            await client.post(ITEMS, json={}),
        ]
        refused = [await client.get(url), await client.post(ITEMS, json={})]

    assert [response.status_code for response in answered] == [201, 200, 200, 404, 422]
    assert answered[2].headers["x-cache"] == "hit"
    assert [response.status_code for response in refused] == [429, 429]


async def test_probes_are_never_limited(prefix: str, client_for: ClientFactory) -> None:
    async with client_for(**limited(prefix, 1)) as client:
        statuses = {
            path: [(await client.get(path)).status_code for _ in range(3)] for path in PROBES
        }
        api = [(await client.get(ITEMS)).status_code for _ in range(2)]

    assert statuses == {path: [200] * 3 for path in PROBES}
    # The probes took nothing from the window.
    assert api == [200, 429]


async def test_every_api_operation_documents_its_429(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    operations = {
        (path, method): operation
        for path, methods in paths.items()
        for method, operation in methods.items()
    }

    api = [key for key in operations if key[0].startswith("/api/")]
    assert api
    assert [key for key in api if "429" not in operations[key]["responses"]] == []
    probes = [key for key in operations if key[0] in PROBES]
    assert [key for key in probes if "429" in operations[key]["responses"]] == []


async def test_the_limit_holds_under_concurrent_requests(
    prefix: str, client_for: ClientFactory
) -> None:
    # Timeouts wide enough that a busy machine cannot make a call give up (and pass).
    async with client_for(**limited(prefix, 5, redis_socket_timeout=30)) as client:
        responses = await asyncio.gather(*(client.get(ITEMS) for _ in range(20)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 15


@pytest.mark.heavy
async def test_a_burst_larger_than_the_pool_is_counted_exactly_and_redis_stays_in_use(
    prefix: str, client_for: ClientFactory
) -> None:
    """Requests queue for the few connections; none is let through for want of one,
    and the limit still holds after the burst."""
    overrides = limited(
        prefix,
        20,
        redis_max_connections=4,
        redis_socket_timeout=30,
        redis_retry_after_seconds=60,
    )
    async with client_for(**overrides) as client:
        responses = await asyncio.gather(*(client.get(ITEMS) for _ in range(300)))
        after = await client.get(ITEMS)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 20 + [429] * 280
    assert after.status_code == 429


async def test_a_slow_reply_lets_one_request_through_and_keeps_counting(
    prefix: str, client_for: ClientFactory, redis_proxy: tuple[TcpProxy, str]
) -> None:
    """Had the slow reply switched Redis off (for REDIS_RETRY_AFTER_SECONDS), the
    requests after it would pass uncounted."""
    proxy, proxied = redis_proxy
    overrides = limited(
        prefix,
        2,
        redis_url=proxied,
        redis_socket_timeout=0.5,
        redis_retry_after_seconds=60,
    )
    async with client_for(**overrides) as client:
        first = await client.get(ITEMS)
        proxy.blackhole()
        try:
            slow = await client.get(ITEMS)
        finally:
            proxy.heal()
        after = [(await client.get(ITEMS)).status_code for _ in range(2)]

    assert (first.status_code, slow.status_code) == (200, 200)
    assert after == [200, 429]


@pytest.mark.heavy
async def test_requests_pass_when_redis_is_down(
    prefix: str, client_for: ClientFactory, redis_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, proxied = redis_proxy
    proxy.stop()
    async with client_for(**limited(prefix, 1, redis_url=proxied)) as client:
        try:
            statuses = [(await client.get(ITEMS)).status_code for _ in range(3)]
        finally:
            proxy.start()  # for the clean-up after the test

    assert statuses == [200] * 3


async def statuses_from(
    app: FastAPI, peer: str, forwarded_for: list[str], trusted: str
) -> list[int]:
    """One request per X-Forwarded-For value from `peer`, through uvicorn's own reading of
    the header, trusting `trusted` (FORWARDED_ALLOW_IPS) as the server does."""
    proxied = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]
    transport = ASGITransport(app=proxied, client=(peer, 40_000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        return [
            (await client.get(ITEMS, headers={"X-Forwarded-For": value})).status_code
            for value in forwarded_for
        ]


# A private network the proxy connects from (a cluster's pod network, say).
CLUSTER = "10.0.0.0/8"


async def test_behind_a_trusted_proxy_a_forged_forwarded_for_gets_no_bucket_of_its_own(
    prefix: str, client_for: ClientFactory
) -> None:
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 5)):
        # The client writes the first address; the ingress appends the one it saw.
        forged = [f"198.51.100.{n}, 203.0.113.7" for n in range(8)]
        statuses = await statuses_from(apps[0], "10.0.0.2", forged, CLUSTER)

    assert statuses == [200] * 5 + [429] * 3


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(
    prefix: str, client_for: ClientFactory
) -> None:
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 1)):
        forwarded = ["203.0.113.7", "203.0.113.8"] * 2
        statuses = await statuses_from(apps[0], "10.0.0.2", forwarded, CLUSTER)

    assert statuses == [200, 200, 429, 429]


async def test_a_client_that_goes_around_the_proxy_is_counted_by_its_own_address(
    prefix: str, client_for: ClientFactory
) -> None:
    """A pod reached directly, X-Forwarded-For of the client's choosing: one bucket still."""
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 5)):
        forged = [f"203.0.113.{n}" for n in range(8)]
        statuses = await statuses_from(apps[0], "198.51.100.9", forged, CLUSTER)

    assert statuses == [200] * 5 + [429] * 3


async def test_by_default_no_proxy_is_trusted_not_even_loopback(
    prefix: str, client_for: ClientFactory, settings: Settings
) -> None:
    apps: list[FastAPI] = []
    async with client_for(apps.append, **limited(prefix, 5)):
        forged = [f"198.51.100.{n}" for n in range(8)]
        statuses = await statuses_from(apps[0], "127.0.0.1", forged, settings.forwarded_allow_ips)

    assert Settings(_env_file=None).forwarded_allow_ips == ""
    assert statuses == [200] * 5 + [429] * 3
