"""The Redis read-through cache, against a real Redis and database: hits, invalidation,
races, restarted servers, schema changes, and the route dependencies a hit still runs.

What every resource does with the cache (a second read of a row is a hit that runs
no SQL, a write to the row is a miss after it) is in `tests/resource_contract.py`.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request, status
from httpx import ASGITransport, AsyncClient, Response
from redis.asyncio import Redis
from sqlmodel import SQLModel

from {{ cookiecutter.__package_name }}.api.errors import install_error_handlers
from {{ cookiecutter.__package_name }}.api.resources import Resource
from {{ cookiecutter.__package_name }}.api.routes.items import router as items_router
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.db import Database
from {{ cookiecutter.__package_name }}.models.items import Item
from {{ cookiecutter.__package_name }}.services import open_services

from tests.api.routes.test_categories import new_category
from tests.api.routes.test_items import new_item
from tests.conftest import ClientFactory, forget_everything, services
from tests.resource_contract import statements_run

ITEMS = "/api/v1/items"
CATEGORIES = "/api/v1/categories"


@pytest.mark.parametrize("url", [ITEMS, f"{ITEMS}?limit=1&offset=1", CATEGORIES])
async def test_a_page_read_twice_is_a_hit_with_the_same_body_and_etag_and_no_sql(
    app: FastAPI, client: AsyncClient, url: str
) -> None:
    category = await new_category(client)
    for name in ("first", "second"):
        await new_item(client, name=name, category_id=category["id"])
    first = await client.get(url)

    with statements_run(services(app).store.database) as run:
        second = await client.get(url)

    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert run == []


async def test_an_item_write_is_a_miss_for_its_own_entry_and_every_page(
    client: AsyncClient,
) -> None:
    kept, changed = await new_item(client, name="kept"), await new_item(client, name="before")
    urls = [f"{ITEMS}/{kept['id']}", f"{ITEMS}/{changed['id']}", ITEMS, f"{ITEMS}?limit=1"]
    for url in urls * 2:
        await client.get(url)

    await client.patch(f"{ITEMS}/{changed['id']}", json={"name": "after"})
    after = {url: await client.get(url) for url in urls}

    # Another row's entry does not depend on this write: it stays a hit. Every page
    # does, even one without the row: the write may have moved it onto that page.
    assert [after[url].headers["x-cache"] for url in urls] == ["hit", "miss", "miss", "miss"]
    assert after[urls[1]].json()["name"] == "after"
    assert [entry["name"] for entry in after[ITEMS].json()] == ["kept", "after"]


async def test_creating_and_deleting_an_item_are_misses_for_every_page(
    client: AsyncClient,
) -> None:
    first = await new_item(client, name="first")
    pages = [ITEMS, f"{ITEMS}?limit=1&offset=1"]
    for url in pages * 2:
        await client.get(url)

    second = await new_item(client, name="second")
    created = [await client.get(url) for url in pages]
    await client.delete(f"{ITEMS}/{first['id']}")
    deleted = [await client.get(url) for url in pages]

    assert [response.headers["x-cache"] for response in created + deleted] == ["miss"] * 4
    assert [[entry["id"] for entry in r.json()] for r in created] == [
        [first["id"], second["id"]],
        [second["id"]],
    ]
    assert [[entry["id"] for entry in r.json()] for r in deleted] == [[second["id"]], []]
    assert (await client.get(f"{ITEMS}/{first['id']}")).status_code == 404


async def test_item_writes_are_misses_for_the_category_reads_that_embed_them(
    client: AsyncClient,
) -> None:
    """A category read embeds its items and the list counts them: an item write, not a
    category write, is what changes them."""
    category = await new_category(client, "Lamps")
    item = await new_item(client, name="before", category_id=category["id"])
    category_url = f"{CATEGORIES}/{category['id']}"
    item_url = f"{ITEMS}/{item['id']}"

    async def reads_after(write: Awaitable[Response]) -> tuple[Any, Any]:
        """The category and the list, read (and cached) before `write` and after it."""
        for url in (category_url, CATEGORIES):
            await client.get(url)
            assert (await client.get(url)).headers["x-cache"] == "hit"
        assert (await write).status_code in (200, 204)
        one, listed = await client.get(category_url), await client.get(CATEGORIES)
        assert (one.headers["x-cache"], listed.headers["x-cache"]) == ("miss", "miss")
        return one.json(), listed.json()

    renamed, _ = await reads_after(client.patch(item_url, json={"name": "after"}))
    moved_out, counted_out = await reads_after(client.patch(item_url, json={"category_id": None}))
    moved_in, counted_in = await reads_after(
        client.patch(item_url, json={"category_id": category["id"]})
    )
    emptied, counted_empty = await reads_after(client.delete(item_url))

    assert [entry["name"] for entry in renamed["items"]] == ["after"]
    assert (moved_out["items"], counted_out[0]["item_count"]) == ([], 0)
    assert ([entry["id"] for entry in moved_in["items"]], counted_in[0]["item_count"]) == (
        [item["id"]],
        1,
    )
    assert (emptied["items"], counted_empty[0]["item_count"]) == ([], 0)


async def test_a_category_write_is_a_miss_for_the_category_list(client: AsyncClient) -> None:
    category = await new_category(client, "Before")
    for _ in range(2):
        await client.get(CATEGORIES)

    await client.patch(f"{CATEGORIES}/{category['id']}", json={"name": "After"})
    listed = await client.get(CATEGORIES)

    assert listed.headers["x-cache"] == "miss"
    assert [entry["name"] for entry in listed.json()] == ["After"]


@contextmanager
def first_read_held(database: Database) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """The first SELECT `database` runs meanwhile returns its rows only once the test
    sets the second event; the first is set when it has read them."""
    read, release = asyncio.Event(), asyncio.Event()
    original = database.run

    async def holding(compiled: Any, *args: Any, **kwargs: Any) -> Any:
        rows = await original(compiled, *args, **kwargs)
        if not compiled.writes and not read.is_set():
            read.set()
            await release.wait()
        return rows

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "run", holding)
        yield read, release


async def test_a_fill_that_raced_a_write_is_never_served(app: FastAPI, client: AsyncClient) -> None:
    """A read loads the row, a write commits and invalidates, then the read stores
    what it loaded: the next reads must see the write."""
    item = await new_item(client, name="old")
    url = f"{ITEMS}/{item['id']}"

    with first_read_held(services(app).store.database) as (read, release):
        reader = asyncio.create_task(client.get(url))
        await read.wait()
        patched = await client.patch(url, json={"name": "new"})
        release.set()
        raced = await reader

    after = [await client.get(url) for _ in range(2)]

    assert patched.status_code == 200
    assert (raced.json()["name"], raced.headers["x-cache"]) == ("old", "miss")
    assert [(r.json()["name"], r.headers["x-cache"]) for r in after] == [
        ("new", "miss"),
        ("new", "hit"),
    ]


async def test_entries_left_by_an_earlier_redis_server_are_not_served(
    client_for: ClientFactory, prefix: str, redis: Redis
) -> None:
    """A Redis restart that reloads a snapshot brings back entries that later writes removed.

    The restart is played by putting back the keys as the snapshot held them, under the
    run id of another server (a restarted one never has the same).
    """
    async with client_for(redis_key_prefix=prefix) as client:
        item = await new_item(client, name="old")
        url = f"{ITEMS}/{item['id']}"
        await client.get(url)
        assert (await client.get(url)).headers["x-cache"] == "hit"
        snapshot = {key: await redis.get(key) async for key in redis.scan_iter(f"{prefix}*")}
        await client.patch(url, json={"name": "new"})

        run_id = (await redis.info("server"))["run_id"].encode()
        earlier_server = b"0" * len(run_id)
        for key, value in snapshot.items():
            assert isinstance(value, bytes)
            await redis.set(
                key.replace(run_id, earlier_server), value.replace(run_id, earlier_server)
            )
        after_restart = await client.get(url)

    assert any(b'"old"' in value for value in snapshot.values() if isinstance(value, bytes))
    assert after_restart.headers["x-cache"] == "miss"
    assert after_restart.json()["name"] == "new"


class NamedItem(SQLModel):
    """What a first release reads of an item."""

    id: int
    name: str


class DescribedItem(NamedItem):
    """The next release's read: one field more."""

    description: str | None


async def test_a_new_response_schema_is_a_new_cache_entry(
    app: FastAPI, client: AsyncClient
) -> None:
    """Two releases on one Redis: the one with a new field never gets a body without it."""
    item = await new_item(client, name="Lamp", description="Bright")
    store = services(app).store
    before = Resource("items", Item, NamedItem)
    after = Resource("items", Item, DescribedItem)

    request = Request({"type": "http", "method": "GET", "headers": []})
    old = [await before.read_one(request, store, item["id"]) for _ in range(2)]
    new = [await after.read_one(request, store, item["id"]) for _ in range(2)]

    assert [response.headers["x-cache"] for response in old + new] == ["miss", "hit"] * 2
    assert old[1].body == b'{"id":%d,"name":"Lamp"}' % item["id"]
    assert new[0].body == b'{"id":%d,"name":"Lamp","description":"Bright"}' % item["id"]
    assert new[1].body == new[0].body


# The one key the app below accepts, besides whatever the service itself asks for.
GRANTED = "known-to-this-test-only"


async def authenticated(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated")
    if not secrets.compare_digest(x_api_key, GRANTED):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid key")


@asynccontextmanager
async def items_behind_a_key(
    settings: Settings, credentials: dict[str, str]
) -> AsyncIterator[AsyncClient]:
    """A client of an app whose items' routes are included with a dependency of the
    owner's (an API key), as a service that adds a check of its own includes them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as running:
            app.state.services = running
            yield

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app, settings)
    app.include_router(items_router, dependencies=[Depends(authenticated)])
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app), base_url="http://test", headers=credentials
        ) as client,
    ):
        try:
            yield client
        finally:
            await forget_everything(services(app))


async def test_a_cached_read_is_refused_to_a_client_the_routes_dependencies_refuse(
    settings: Settings, credentials: dict[str, str]
) -> None:
    """The cache answers inside the route, after its dependencies: a hit never skips them."""
    authorised = {"X-Api-Key": GRANTED}
    async with items_behind_a_key(settings, credentials) as client:
        posted = await client.post(ITEMS, json={"name": "Lamp", "price": 9}, headers=authorised)
        assert posted.status_code == 201, posted.text
        item = posted.json()
        urls = [f"{ITEMS}/{item['id']}", ITEMS]
        filled = [await client.get(url, headers=authorised) for url in urls * 2]
        anonymous = [await client.get(url) for url in urls]
        forged = [await client.get(url, headers={"X-Api-Key": "guess"}) for url in urls]
        still = [await client.get(url, headers=authorised) for url in urls]

    assert [response.headers["x-cache"] for response in filled] == ["miss", "miss", "hit", "hit"]
    assert [(r.status_code, r.json()["detail"]) for r in anonymous] == [
        (401, "Not authenticated")
    ] * 2
    assert [(r.status_code, r.json()["detail"]) for r in forged] == [(401, "Invalid key")] * 2
    assert not any("x-cache" in r.headers for r in anonymous + forged)
    assert [(r.status_code, r.headers["x-cache"]) for r in still] == [(200, "hit")] * 2


async def test_a_redis_that_forgot_its_scripts_still_serves_hits(
    client: AsyncClient, redis: Redis
) -> None:
    """A restarted or flushed Redis has no scripts: the next lookup loads it again."""
    item = await new_item(client)
    url = f"{ITEMS}/{item['id']}"
    await client.get(url)
    await redis.script_flush()

    responses = [await client.get(url) for _ in range(2)]

    assert [(r.status_code, r.headers["x-cache"]) for r in responses] == [(200, "hit")] * 2


async def test_the_pages_kept_of_a_resource_are_capped_until_it_changes(
    client_for: ClientFactory, prefix: str, redis: Redis
) -> None:
    """Every `limit` and `offset` is a page: a client asking for all of them cannot fill Redis."""
    async with client_for(redis_key_prefix=prefix, cache_max_pages=3) as client:
        await new_item(client)
        offsets = [{"offset": offset} for offset in range(6)]
        for params in offsets:
            await client.get(ITEMS, params=params)
        again = [await client.get(ITEMS, params=params) for params in offsets]
        kept = [key async for key in redis.scan_iter(f"{prefix}e:items:*")]
        await new_item(client)
        beyond = offsets[4]
        after_a_write = [await client.get(ITEMS, params=beyond) for _ in range(2)]

    assert [response.headers["x-cache"] for response in again] == ["hit"] * 3 + ["miss"] * 3
    assert len(kept) == 3
    assert [response.headers["x-cache"] for response in after_a_write] == ["miss", "hit"]
