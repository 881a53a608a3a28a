"""Cached reads and the rate limit answered before routing: the same answer as the route's."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis

from {{ cookiecutter.__package_name }}.cache.front import cached_read, canonical_int, page_of
from {{ cookiecutter.__package_name }}.cache.responses import RedisResponseCache

from tests.conftest import ClientFactory, create_item

ITEMS = "/api/v1/items"
LIMIT = 4
# Differ on every response, by design, or say where it came from (the window's reset
# is a number of seconds, which may tick between two requests).
PER_RESPONSE = {
    "x-request-id",
    "x-process-time",
    "x-cache",
    "ratelimit-remaining",
    "ratelimit-reset",
}


class FrontOnly:
    """The app's cache as the front uses it; the read routes' calls fail."""

    def __init__(self, cache: RedisResponseCache) -> None:
        self.cache = cache

    def __getattr__(self, name: str) -> Any:
        if name in {"read_item", "read_page"}:
            raise AssertionError("a cache hit must be answered before routing")
        return getattr(self.cache, name)


@contextmanager
def route_must_not_run(app: FastAPI) -> Iterator[None]:
    """A request that reaches an items read route gets a 500 while this lasts."""
    cache = app.state.cache
    app.state.cache = FrontOnly(cache)
    try:
        yield
    finally:
        app.state.cache = cache


@pytest.fixture
async def limited(
    client_for: ClientFactory, prefix: str
) -> AsyncIterator[tuple[AsyncClient, FastAPI]]:
    """A client of an app with the rate limit on (LIMIT requests a window), and that app."""
    apps: list[FastAPI] = []
    overrides = {
        "rate_limit_enabled": True,
        "rate_limit_requests": LIMIT,
        "redis_key_prefix": prefix,
    }
    async with client_for(apps.append, **overrides) as client:
        yield client, apps[0]


def comparable(response_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response_headers if name not in PER_RESPONSE]


@pytest.mark.parametrize("path", ["/{id}", "", "?limit=5&offset=0"])
async def test_a_hit_from_the_front_is_the_routes_answer_with_the_rate_limit_headers(
    limited: tuple[AsyncClient, FastAPI], path: str
) -> None:
    client, app = limited
    item = await create_item(client)
    url = ITEMS + path.format(id=item["id"])
    try:
        from_route = await client.get(url)
        with route_must_not_run(app):
            from_front = await client.get(url)
    finally:
        await client.delete(f"{ITEMS}/{item['id']}")

    assert (from_route.headers["x-cache"], from_front.headers["x-cache"]) == ("miss", "hit")
    assert from_front.status_code == 200
    assert from_front.content == from_route.content
    assert comparable(list(from_front.headers.multi_items())) == comparable(
        list(from_route.headers.multi_items())
    )
    # Third of the window's requests: the creation and the route's read came first.
    assert from_front.headers["ratelimit-limit"] == str(LIMIT)
    assert from_front.headers["ratelimit-remaining"] == str(LIMIT - 3)
    assert from_front.headers["x-request-id"] != from_route.headers["x-request-id"]


async def test_a_hit_with_the_current_etag_is_a_304_from_the_front(
    app: FastAPI, client: AsyncClient
) -> None:
    item = await create_item(client)
    url = f"{ITEMS}/{item['id']}"
    etag = (await client.get(url)).headers["etag"]

    with route_must_not_run(app):
        response = await client.get(url, headers={"If-None-Match": f'"other", {etag}'})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["x-cache"] == "hit"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_redis_that_forgot_the_scripts_is_taught_them_again(
    app: FastAPI, client: AsyncClient, redis: Redis
) -> None:
    """A restarted or flushed Redis has no scripts: the next hit loads them, once."""
    item = await create_item(client)
    url = f"{ITEMS}/{item['id']}"
    await client.get(url)
    await redis.script_flush()

    with route_must_not_run(app):
        responses = [await client.get(url) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert [response.headers["x-cache"] for response in responses] == ["hit", "hit"]


async def test_a_cached_read_over_the_limit_is_429_with_retry_after(
    limited: tuple[AsyncClient, FastAPI],
) -> None:
    client, _ = limited
    statuses = [(await client.get(ITEMS)).status_code for _ in range(LIMIT)]
    refused = await client.get(ITEMS)

    assert statuses == [200] * LIMIT
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.json() == {
        "detail": "Too Many Requests",
        "request_id": refused.headers["x-request-id"],
    }


async def test_other_requests_are_limited_in_the_same_window(
    limited: tuple[AsyncClient, FastAPI],
) -> None:
    client, _ = limited
    reads = [(await client.get(f"{ITEMS}/424242")).status_code for _ in range(LIMIT - 1)]
    invalid_write = await client.post(ITEMS, json={})

    assert reads == [404] * (LIMIT - 1)
    assert invalid_write.status_code == 422
    assert invalid_write.headers["ratelimit-remaining"] == "0"
    assert (await client.post(ITEMS, json={})).status_code == 429
    assert (await client.get(ITEMS)).status_code == 429


async def test_hits_are_counted_under_their_route_template(client: AsyncClient) -> None:
    item = await create_item(client)
    await client.get(f"{ITEMS}/{item['id']}")
    hit = 'http_requests_total{method="GET",route="/api/v1/items/{item_id}",status="200"}'
    before = counted((await client.get("/metrics")).text, hit)

    assert (await client.get(f"{ITEMS}/{item['id']}")).headers["x-cache"] == "hit"

    assert counted((await client.get("/metrics")).text, hit) == before + 1


def counted(exposition: str, series: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("7", 7),
        ("0", 0),
        ("2147483647", 2147483647),
        ("007", None),
        ("+7", None),
        (" 7", None),
        ("\N{ARABIC-INDIC DIGIT SEVEN}", None),
        ("", None),
        ("12345678901", None),
        ("7.0", None),
    ],
)
def test_only_plain_digits_are_read_as_numbers(text: str, number: int | None) -> None:
    assert canonical_int(text) == number


@pytest.mark.parametrize(
    ("query", "page"),
    [
        (b"", (20, 0)),
        (b"limit=5", (5, 0)),
        (b"offset=40&limit=10", (10, 40)),
        (b"limit=5&limit=6", None),
        (b"limit=5&sort=name", None),
        (b"limit=%35", None),
        (b"limit", None),
    ],
)
def test_pages_are_read_only_from_plain_limit_and_offset(
    query: bytes, page: tuple[int, int] | None
) -> None:
    assert page_of(query) == page


@pytest.mark.parametrize(
    ("method", "path", "query", "key"),
    [
        ("GET", "/api/v1/items/7", b"", ("item:7", "entry")),
        ("GET", "/api/v1/items", b"limit=5", ("items", "entry:5:0")),
        ("HEAD", "/api/v1/items/7", b"", None),
        ("POST", "/api/v1/items", b"", None),
        ("GET", "/api/v1/items/7", b"x=1", None),
        ("GET", "/api/v1/items/7/", b"", None),
        ("GET", "/api/v1/itemsx", b"", None),
        ("GET", "/api/v1/categories/7", b"", None),
    ],
)
def test_only_plain_reads_of_items_are_looked_up(
    app: FastAPI, method: str, path: str, query: bytes, key: tuple[str, str] | None
) -> None:
    cache: RedisResponseCache = app.state.cache
    scope = {"method": method, "path": path, "query_string": query}

    found = cached_read(scope, cache)

    assert (found and (found[0][0].removeprefix(cache.prefix), found[0][1])) == key
