"""What every resource of the pattern does, tested once for each.

A resource's test module subclasses `ResourceContract` (as `Test<Resource>`) and
says how to make a valid row; every test below then runs for that resource,
beside the ones the module adds for what is particular to it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
{% if cookiecutter.use_redis or cookiecutter.auth == "oauth2" %}
from fastapi import FastAPI
{% endif %}
{% if cookiecutter.auth == "oauth2" %}
from httpx import ASGITransport, AsyncClient
{% else %}
from httpx import AsyncClient
{% endif %}

from {{ cookiecutter.__package_name }}.db import Database

{% if cookiecutter.auth == "oauth2" %}
from tests.conftest import ClientFactory, created, services
{% else %}
from tests.conftest import created{% if cookiecutter.use_redis %}, services{% endif +%}
{% endif %}


class ResourceContract:
    # Where the resource lives, e.g. "/api/v1/items", and what its 404 calls a row.
    path: ClassVar[str]
    label: ClassVar[str]
    # A field and a value of it that validation refuses, for each kind of field.
    invalid: ClassVar[dict[str, Any]]

    async def valid(self, client: AsyncClient) -> dict[str, Any]:
        """A body POST accepts, creating first whatever it refers to."""
        raise NotImplementedError

    async def change(self, client: AsyncClient) -> dict[str, Any]:
        """A PATCH body that changes at least one field (making first what it refers to)."""
        raise NotImplementedError

    async def create(self, client: AsyncClient) -> dict[str, Any]:
        return await created(client, self.path, await self.valid(client))

    async def test_what_is_created_is_what_is_read(self, client: AsyncClient) -> None:
        body = await self.valid(client)
        row = await created(client, self.path, body)

        assert row["id"] >= 1
        assert shows(row, (await client.get(f"{self.path}/{row['id']}")).json())
        listed = (await client.get(self.path, params={"limit": 100})).json()
        assert [shows(row, entry) for entry in listed if entry["id"] == row["id"]] == [True]

    async def test_an_unknown_id_is_404_for_every_method(self, client: AsyncClient) -> None:
        body = await self.change(client)
        for method in ("GET", "PATCH", "DELETE"):
            response = await client.request(method, f"{self.path}/999999", json=body)
            assert response.status_code == 404, method
            assert response.json()["detail"] == f"{self.label} not found"

    async def test_ids_out_of_range_are_422_not_a_database_error(self, client: AsyncClient) -> None:
        for row_id in ("0", str(2**63), "abc"):
            assert (await client.get(f"{self.path}/{row_id}")).status_code == 422, row_id

    async def test_pages_come_in_id_order(self, client: AsyncClient) -> None:
        ids = [(await self.create(client))["id"] for _ in range(3)]

        first = (await client.get(self.path, params={"limit": 2})).json()
        second = (await client.get(self.path, params={"limit": 2, "offset": 2})).json()

        assert [row["id"] for row in first + second][-3:] == ids
        for limit in (0, 100_000):
            assert (await client.get(self.path, params={"limit": limit})).status_code == 422

    async def test_patch_changes_only_the_fields_sent(self, client: AsyncClient) -> None:
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"

        change = await self.change(client)
        response = await client.patch(url, json=change)

        assert response.status_code == 200, response.text
        changed = response.json()
        assert {name for name in row if changed[name] != row[name]} <= set(change)
        assert shows(changed, (await client.get(url)).json())
        assert (await client.patch(url, json={})).json() == changed

    async def test_a_deleted_row_is_gone(self, client: AsyncClient) -> None:
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"

        response = await client.delete(url)

        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(url)).status_code == 404
        assert (await client.delete(url)).status_code == 404

    async def test_ids_are_never_reused_after_a_delete(self, client: AsyncClient) -> None:
        first = await self.create(client)
        assert (await client.delete(f"{self.path}/{first['id']}")).status_code == 204

        second = await self.create(client)

        assert second["id"] > first["id"]

    async def test_invalid_values_are_422_naming_the_field(self, client: AsyncClient) -> None:
        row = await self.create(client)
        body = await self.valid(client)
        for field, value in self.invalid.items():
            for response in (
                await client.post(self.path, json={**body, field: value}),
                await client.patch(f"{self.path}/{row['id']}", json={field: value}),
            ):
                assert response.status_code == 422, (field, value, response.text)
                assert ["body", field] in [error["loc"][:2] for error in response.json()["detail"]]

    async def test_unknown_fields_are_422(self, client: AsyncClient) -> None:
        row = await self.create(client)
        body = {**await self.valid(client), "no_such_field": 1}

        assert (await client.post(self.path, json=body)).status_code == 422
        patch = await client.patch(f"{self.path}/{row['id']}", json={"no_such_field": 1})
        assert patch.status_code == 422

    async def test_reads_carry_an_etag_and_answer_304(self, client: AsyncClient) -> None:
        row = await self.create(client)
        for url in (f"{self.path}/{row['id']}", self.path):
            response = await client.get(url)
            etag = response.headers["etag"]
            assert etag.startswith('W/"'), etag
            assert response.headers["cache-control"]

            again = await client.get(url, headers={"If-None-Match": etag})

            assert again.status_code == 304, url
            assert again.content == b""
            assert again.headers["etag"] == etag

    async def test_a_write_is_read_back_at_once(self, client: AsyncClient) -> None:
        """Whatever keeps reads (the cache, a client's ETag) follows every write."""
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"
        before = [await client.get(url) for _ in range(2)]
        listed = [await client.get(self.path) for _ in range(2)]

        changed = (await client.patch(url, json=await self.change(client))).json()
        other = await self.create(client)

        after = await client.get(url, headers={"If-None-Match": before[0].headers["etag"]})
        assert after.status_code == 200
        assert shows(changed, after.json())
        assert after.headers["etag"] != before[0].headers["etag"]
        ids = [entry["id"] for entry in (await client.get(self.path)).json()]
        assert other["id"] in ids
        assert listed[1].headers["etag"] != (await client.get(self.path)).headers["etag"]
{% if cookiecutter.use_redis %}

    async def test_the_second_read_is_a_cache_hit_until_a_write(self, client: AsyncClient) -> None:
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"

        reads = [await client.get(url) for _ in range(2)]
        await client.patch(url, json=await self.change(client))
        after = await client.get(url)

        assert [read.headers["x-cache"] for read in reads] == ["miss", "hit"]
        assert reads[1].content == reads[0].content
        assert after.headers["x-cache"] == "miss"

    async def test_a_hit_asks_nothing_of_the_database(
        self, app: FastAPI, client: AsyncClient
    ) -> None:
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"
        await client.get(url)

        with statements_run(services(app).store.database) as run:
            response = await client.get(url)

        assert response.headers["x-cache"] == "hit"
        assert run == []
{% endif %}
{% if cookiecutter.auth == "oauth2" %}

    async def test_writes_need_the_resources_write_scope(
        self, app: FastAPI, client: AsyncClient
    ) -> None:
        row = await self.create(client)
        url = f"{self.path}/{row['id']}"
        writes = [
            ("POST", self.path, await self.valid(client)),
            ("PATCH", url, await self.change(client)),
            ("DELETE", url, None),
        ]
        plural = self.path.rsplit("/", 1)[1]
        elsewhere = scoped(app, f"{plural}:read", "other_resource:write")

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as other:
            anonymous = [await other.request(*write[:2], json=write[2]) for write in writes]
            refused = [
                await other.request(*write[:2], json=write[2], headers=elsewhere)
                for write in writes
            ]
            allowed = await other.delete(url, headers=scoped(app, f"{plural}:write"))

        assert [response.status_code for response in anonymous] == [401] * 3
        assert [response.status_code for response in refused] == [403] * 3
        assert allowed.status_code == 204

    async def test_protected_reads_need_the_resources_read_scope(
        self, app: FastAPI, client_for: ClientFactory
    ) -> None:
        plural = self.path.rsplit("/", 1)[1]
        async with client_for(auth_protected_reads=plural) as client:
            row = await self.create(client)
            urls = [f"{self.path}/{row['id']}", self.path]
            anonymous = [await client.get(url, headers={"Authorization": ""}) for url in urls]
            readers = [await client.get(url, headers=scoped(app, f"{plural}:read")) for url in urls]

        assert [response.status_code for response in anonymous] == [401, 401]
        assert [response.status_code for response in readers] == [200, 200]
{% endif %}


{% if cookiecutter.auth == "oauth2" %}
def scoped(app: FastAPI, *scopes: str) -> dict[str, str]:
    """The headers of a caller whose token holds `scopes`, and nothing else."""
    token, _ = services(app).auth.tokens.issue(7, list(scopes), superuser=False)
    return {"Authorization": f"Bearer {token}"}


{% endif %}
def shows(row: dict[str, Any], read: dict[str, Any]) -> bool:
    """Whether a read shows `row` as it is (a read may add what it embeds)."""
    return {name: read.get(name) for name in row} == row


@contextmanager
def statements_run(database: Database) -> Iterator[list[str]]:
    """The SQL of every statement `database` runs meanwhile."""
    run: list[str] = []
    original = database.run

    async def recording(compiled: Any, *args: Any, **kwargs: Any) -> Any:
        run.append(compiled.sql)
        return await original(compiled, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "run", recording)
        yield run
