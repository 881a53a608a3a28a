"""The database goes away while the service runs: clear 503s, then recovery without a restart."""

{% if cookiecutter.database == "sqlite" %}
import asyncio
from pathlib import Path

from alembic import command

from tests.conftest import ClientFactory, alembic_config
{% else %}
from sqlalchemy.engine import make_url

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory
from tests.tcp_proxy import TcpProxy
{% endif %}

ITEMS = "/api/v1/items"
UNAVAILABLE = "The database is unavailable; try again later"


{% if cookiecutter.database == "postgres" %}
async def test_requests_get_a_clear_503_while_the_database_is_down_and_recover(
    settings: Settings, client_for: ClientFactory
) -> None:
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "localhost", url.port or 5432)
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with client_for(database_url=proxied) as client:
            before = await client.get(ITEMS)
            proxy.stop()
            read = await client.get(f"{ITEMS}/1")
            write = await client.post(ITEMS, json={"name": "lost?", "price": 1})
            ready = await client.get("/ready")
            proxy.start()
            after = await client.get(ITEMS)
    finally:
        proxy.stop()
{% else %}
async def test_requests_get_a_clear_503_while_the_database_is_unreachable_and_recover(
    tmp_path: Path, client_for: ClientFactory
) -> None:
    directory = tmp_path / "not-mounted-yet"
    url = f"sqlite+aiosqlite:///{directory / 'service.db'}"
    async with client_for(database_url=url) as client:
        before = await client.get("/health")
        read = await client.get(f"{ITEMS}/1")
        write = await client.post(ITEMS, json={"name": "lost?", "price": 1})
        ready = await client.get("/ready")
        directory.mkdir()
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        after = await client.get(ITEMS)
{% endif %}

    assert before.status_code == 200
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
