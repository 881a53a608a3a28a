{% if cookiecutter.database == "postgres" %}
"""The database goes away while the service runs: clear 503s within the configured
timeouts, never a hung request, and recovery without a restart."""

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.engine import make_url

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.readiness import READY_CACHE_SECONDS

from tests.conftest import ClientFactory
from tests.tcp_proxy import TcpProxy
{% else %}
"""SQLite's file as the service meets it when something else has it: clear 503s for
what must wait, reads as usual, and recovery without a restart."""

import re
import sqlite3
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy.engine import make_url

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.db import DatabaseUnavailable
from {{ cookiecutter.__package_name }}.main import create_app

from tests.api.routes.test_items import new_item
from tests.conftest import ClientFactory
{% endif %}

pytestmark = pytest.mark.heavy

ITEMS = "/api/v1/items"
UNAVAILABLE = "The database is unavailable; try again later"


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {
        "detail": UNAVAILABLE,
        "request_id": response.headers["x-request-id"],
    }
    assert response.headers["retry-after"] == "5"
{% if cookiecutter.database == "postgres" %}


def through(proxy: TcpProxy, settings: Settings) -> str:
    """The test database's URL, reached through `proxy`."""
    return (
        make_url(settings.database_url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )


def proxy_for(settings: Settings) -> TcpProxy:
    url = make_url(settings.database_url)
    return TcpProxy(url.host or "localhost", url.port or 5432)


async def timed(request: Awaitable[Response]) -> tuple[Response, float]:
    """The response and the seconds it took; a request still hanging after 20 s fails."""
    started = time.monotonic()
    response = await asyncio.wait_for(request, 20)
    return response, time.monotonic() - started


# One connection, so that a test knows which one each request gets, and short bounds,
# whatever the environment sets for the rest of the suite.
POOL: dict[str, Any] = {
    "database_pool_size": 1,
    "database_connect_timeout": 1,
    "database_statement_timeout": 2,
    "database_pool_timeout": 5,
}
# What a loaded machine may add to a bound before the request is answered.
SLACK = 1.5


async def test_requests_get_a_clear_503_while_the_database_is_down_and_recover(
    settings: Settings, client_for: ClientFactory
) -> None:
    """The server stops (its pooled connections cut, new ones refused), then comes back
    on the same address, as after a crash or a restart."""
    with proxy_for(settings) as proxy:
        async with client_for(database_url=through(proxy, settings), **POOL) as client:
            before = await client.get(ITEMS)  # the connection is open
            proxy.stop()
            alive = await client.get("/health")
            read = await client.get(f"{ITEMS}/1")  # on the cut connection
            write = await client.post(ITEMS, json={"name": "lost?", "price": 1})  # refused
            ready = await client.get("/ready")
            proxy.start()
            after = [
                await client.get(ITEMS),
                await client.post(ITEMS, json={"name": "stored", "price": 1}),
            ]
            await asyncio.sleep(READY_CACHE_SECONDS)  # what `/ready` knows is that old
            ready_again = await client.get("/ready")

    assert before.status_code == 200
    assert alive.status_code == 200
    assert_unavailable(read)
    assert_unavailable(write)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failing"
    assert [response.status_code for response in after] == [200, 201]
    assert ready_again.status_code == 200


async def test_a_database_that_drops_packets_fails_requests_within_the_timeouts(
    settings: Settings, client_for: ClientFactory
) -> None:
    """Without connect and statement timeouts a partition hangs requests for its whole length."""
    with proxy_for(settings) as proxy:
        async with client_for(database_url=through(proxy, settings), **POOL) as client:
            assert (await client.get(ITEMS)).status_code == 200  # the connection is open
            proxy.blackhole()
            on_open, open_took = await timed(client.get(f"{ITEMS}/1"))
            # That connection is lost with its statement: the next request needs a new one.
            on_new, new_took = await timed(client.post(ITEMS, json={"name": "lost?", "price": 1}))
            proxy.heal()
            after = await client.get(ITEMS)

    assert_unavailable(on_open)
    assert open_took < POOL["database_statement_timeout"] + SLACK
    assert_unavailable(on_new)
    assert new_took < POOL["database_connect_timeout"] + SLACK
    assert after.status_code == 200


async def test_a_request_waiting_for_a_connection_fails_within_the_pool_timeout(
    settings: Settings, client_for: ClientFactory
) -> None:
    """Every connection is held by a hung statement: the next request does not queue behind it."""
    bounds = {**POOL, "database_pool_timeout": 0.5}
    with proxy_for(settings) as proxy:
        async with client_for(database_url=through(proxy, settings), **bounds) as client:
            assert (await client.get(ITEMS)).status_code == 200
            proxy.blackhole()
            hung = asyncio.create_task(timed(client.get(f"{ITEMS}/1")))
            await asyncio.sleep(0.2)  # it holds the only connection
            waiting, waited = await timed(client.get(f"{ITEMS}/2"))
            held, held_for = await hung
            proxy.heal()

    assert_unavailable(waiting)
    assert waited < bounds["database_pool_timeout"] + SLACK
    assert_unavailable(held)
    assert held_for < bounds["database_statement_timeout"] + SLACK
{% else %}


async def test_writes_get_a_clear_503_while_another_connection_holds_the_lock_and_recover(
    settings: Settings, client_for: ClientFactory
) -> None:
    """A migration, a backup or a script holds SQLite's write lock for longer than a write
    waits for it (DATABASE_BUSY_TIMEOUT_MS): writes get a 503 meanwhile, reads go on
    (WAL), and the next write after it lets go succeeds."""
    path = make_url(settings.database_url).database or ""
    async with client_for(database_busy_timeout_ms=200) as client:
        item = await new_item(client)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            write = await client.post(ITEMS, json={"name": "lost?", "price": 1})
            change = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "lost?"})
            read = await client.get(f"{ITEMS}/{item['id']}")
            ready = await client.get("/ready")
        finally:
            other.execute("ROLLBACK")
            other.close()
        after = await client.post(ITEMS, json={"name": "stored", "price": 1})

    assert_unavailable(write)
    assert_unavailable(change)
    assert read.json() == item
    assert ready.status_code == 200
    assert after.status_code == 201


async def test_a_file_that_cannot_be_opened_stops_the_service_at_start_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    """As when its volume is not mounted: the service must not start and then fail every
    request. The orchestrator restarts it until the file is there."""
    path = tmp_path / "not-mounted" / "service.db"
    app = create_app(settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{path}"}))

    with pytest.raises(DatabaseUnavailable, match=re.escape(str(path))):
        async with app.router.lifespan_context(app):
            pass
{% endif %}
