"""The database goes away while the service runs: clear 503s, then recovery without a restart."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
{% if cookiecutter.database == "sqlite" %}
from alembic import command
{% else %}
from sqlalchemy.engine import make_url
{% endif %}

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory{% if cookiecutter.database == "sqlite" %}, alembic_config{% endif %}

{% if cookiecutter.database == "postgres" %}
from tests.tcp_proxy import TcpProxy
{% endif %}

pytestmark = pytest.mark.heavy

ITEMS = "/api/v1/items"
UNAVAILABLE = "The database is unavailable; try again later"
# The database URL the app uses, and how to bring the database back.
Outage = tuple[str, Callable[[], Awaitable[None]]]


@asynccontextmanager
async def unreachable_database(settings: Settings, tmp_path: Path) -> AsyncIterator[Outage]:
    """A database the app cannot reach until the test restores it."""
{% if cookiecutter.database == "postgres" %}
    # The server is behind a proxy, stopped once so that it keeps its port.
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "localhost", url.port or 5432)
    proxy.start()
    proxy.stop()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)

    async def restore() -> None:
        proxy.start()

    try:
        yield proxied, restore
    finally:
        proxy.stop()
{% else %}
    # The file's directory is not there yet, as when a volume is not mounted.
    directory = tmp_path / "not-mounted-yet"
    url = f"sqlite+aiosqlite:///{directory / 'service.db'}"

    async def restore() -> None:
        directory.mkdir()
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")

    yield url, restore
{% endif %}


async def test_requests_get_a_clear_503_while_the_database_is_down_and_recover(
    settings: Settings, tmp_path: Path, client_for: ClientFactory
) -> None:
    async with (
        unreachable_database(settings, tmp_path) as (url, restore),
        client_for(database_url=url) as client,
    ):
        alive = await client.get("/health")
        read = await client.get(f"{ITEMS}/1")
        write = await client.post(ITEMS, json={"name": "lost?", "price": 1})
        ready = await client.get("/ready")
        await restore()
        after = await client.get(ITEMS)

    assert alive.status_code == 200
    for response in (read, write):
        assert response.status_code == 503
        assert response.json() == {
            "detail": UNAVAILABLE,
            "request_id": response.headers["x-request-id"],
        }
        assert response.headers["retry-after"] == "5"
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failing"
    assert after.status_code == 200
{% if cookiecutter.database == "postgres" %}


async def test_a_database_that_drops_packets_fails_requests_within_seconds(
    settings: Settings, client_for: ClientFactory
) -> None:
    """Without connect and statement timeouts a partition hangs requests for its whole length."""
    url = make_url(settings.database_url)
    with TcpProxy(url.host or "localhost", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        timeouts = {"database_connect_timeout": 1, "database_statement_timeout": 1}
        async with client_for(database_url=proxied, **timeouts) as client:
            assert (await client.get(ITEMS)).status_code == 200  # a pooled connection exists
            proxy.blackhole()
            on_open_connection = await asyncio.wait_for(client.get(f"{ITEMS}/1"), 10)
            on_new_connection = await asyncio.wait_for(
                client.post(ITEMS, json={"name": "lost?", "price": 1}), 10
            )

    for response in (on_open_connection, on_new_connection):
        assert response.status_code == 503, response.text
        assert response.json()["detail"] == UNAVAILABLE
{% endif %}
