"""What every resource's routes share, so that each resource is only its models and routes.

A `Resource` builds its statements once from the table and the read model
(SQLAlchemy compiles them on first use), reads through the cache with ETags,
writes with one statement whose `RETURNING` says what happened, and turns a
broken constraint into the 409 that names it. Rows become responses without a
second validation: the database has already constrained every value.
"""

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from hashlib import blake2b
from typing import Any, Generic, TypeVar

from fastapi import HTTPException, Request, Response, status
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlmodel import SQLModel

{% if cookiecutter.auth == "oauth2" %}
from ..auth.access import readers, writers
{% endif %}
from ..caching import CacheKey, CacheUnavailable
from ..core.error_body import described
from ..db import ConstraintViolated, Row, Statement, bound
from ..services import Store
from . import API_V1
{% if cookiecutter.auth == "none" %}
from .access import readers, writers
{% endif %}
from .conflicts import Conflicts
from .deps import Page
from .http_cache import conditional_json

Read = TypeVar("Read", bound=BaseModel)
Values = dict[str, Any]
# The bound name of the row a statement targets; no column can take it, as names
# of columns start with a letter.
ROW = "_row"
WRITES_PAUSED = "Writes are paused while the cache cannot be reached; try again later"
# Each resource's plural by its table's name, for messages that name another resource.
PLURALS: dict[str, str] = {}


@asynccontextmanager
async def changing(store: Store, resource: str, row: int | None = None) -> AsyncIterator[None]:
    """Around a write: the cache is told before and after it (`Cache.changing`), and a
    write it cannot be told of is a 503, not made."""
    try:
        async with store.cache.changing(resource, row):
            yield
    except CacheUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, WRITES_PAUSED, {"Retry-After": "5"}
        ) from None


@cache
def shape_of(model: type[BaseModel]) -> str:
    """A digest of what `model` looks like in JSON: a new field, a new shape."""
    schema = json.dumps(model.model_json_schema(mode="serialization"), sort_keys=True)
    return blake2b(schema.encode(), digest_size=6).hexdigest()


class Resource(Generic[Read]):
    """The rows of `table` as a REST resource at `/api/v1/<plural>`, read as `read`.

    `conflicts` replaces the 409 messages: by column for a unique or foreign key
    constraint, and `"referenced"` for a delete that other rows still refer to.
    `derive` adds the columns computed from what a client sent. `depends_on` names
    the resources whose writes change this one's reads (those that embed them).
    """

    def __init__(
        self,
        plural: str,
        table: type[SQLModel],
        read: type[Read],
        *,
        conflicts: Mapping[str, str] | None = None,
        derive: Callable[[Values], Values] | None = None,
        depends_on: Sequence[str] = (),
    ) -> None:
        self.plural = plural
        self.path = f"{API_V1}/{plural}"
        self.table: Table = table.__table__  # type: ignore[attr-defined]
        self.read = read
        # What a route of the resource declares: who may read it, who may change it.
        self.can_read = readers(plural)
        self.can_write = writers(plural)
        self.label = self.table.name.replace("_", " ")
        self.derive = derive
        self.depends_on = tuple(depends_on)
        self.columns = [self.table.c[name] for name in read.model_fields]
        self.key = self.table.c.id
        self.by_id = Statement(select(*self.columns).where(self.key == bindparam(ROW)))
        self.page = Statement(
            select(*self.columns)
            .order_by(self.key)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        self.removal = Statement(
            delete(self.table).where(self.key == bindparam(ROW)).returning(self.key)
        )
        PLURALS[self.table.name] = plural
        self.conflicts = Conflicts(self.table, self.label, PLURALS, conflicts or {})
        # One statement per set of columns written (a PATCH sends some of them).
        self.inserts: dict[frozenset[str], Statement] = {}
        self.updates: dict[frozenset[str], Statement] = {}

    # Documentation of the errors a route of this resource answers.

    @property
    def not_found(self) -> dict[int | str, dict[str, Any]]:
        return described(status.HTTP_404_NOT_FOUND, f"{self.label.capitalize()} not found")

    @property
    def not_modified(self) -> dict[int | str, dict[str, Any]]:
        """A read answers 304, without a body, to a client that holds its current ETag."""
        return {status.HTTP_304_NOT_MODIFIED: {"description": "The ETag sent is current"}}

    @property
    def conflict(self) -> dict[int | str, dict[str, Any]]:
        return described(status.HTTP_409_CONFLICT, "The request conflicts with what is stored")

    # Reads: served from the cache when it has them, else one statement.

    async def read_one(self, request: Request, store: Store, row_id: int) -> Response:
        async def load() -> Read | None:
            return await self.find(store, row_id)

        return await self.cached(request, store, self.read, str(row_id), load, row=row_id)

    async def find(self, store: Store, row_id: int) -> Read | None:
        """The row as its response model, from the database (not the cache)."""
        row = await store.database.fetch_one(self.by_id, **{ROW: row_id})
        return None if row is None else self.model(row)

    async def read_page(self, request: Request, store: Store, page: Page) -> Response:
        async def load() -> list[Read]:
            rows = await store.database.fetch_all(self.page, limit=page.limit, offset=page.offset)
            return [self.model(row) for row in rows]

        entry = f"page:{page.limit}:{page.offset}"
        return await self.cached(request, store, self.read, entry, load)

    async def cached(
        self,
        request: Request,
        store: Store,
        model: type[BaseModel],
        entry: str,
        load: Callable[[], Awaitable[Any]],
        *,
        row: int | None = None,
    ) -> Response:
        """`load()` (a `model`, a list of them, or None for a 404) as a conditional JSON
        response, through the cache under `entry`.

        Without `row` the entry is stale after any write to this resource; with it,
        after a write to that row. Either way, after any write to `depends_on`.
        """
        collections = self.depends_on if row is not None else (self.plural, *self.depends_on)
        key = CacheKey(self.plural, shape_of(model), entry, row, collections)

        async def load_body() -> bytes | None:
            found = await load()
            return None if found is None else to_json(found)

        body, source = await store.cache.read_through(key, load_body)
        if body is None:
            raise self.missing()
        # Read from the request rather than declared as a header parameter: FastAPI's
        # parsing of one costs more than the rest of a cached read.
        if_none_match = request.headers.get("if-none-match")
        return conditional_json(body, if_none_match, store.cache_control, source)

    # Writes: one statement each, then the cache forgets what they changed.

    async def create(self, store: Store, data: BaseModel) -> Read:
        values = self.values(data.model_dump())
        query = self.statement(self.inserts, values, self.insert)
        async with changing(store, self.plural):
            row = await self.write(store, query, values)
        if row is None:
            raise RuntimeError(f"INSERT INTO {self.table.name} returned no row")
        return self.model(row)

    async def update(self, store: Store, row_id: int, data: BaseModel) -> Read:
        """Only the fields the client sent change; none sent reads the row as it is."""
        values = self.values(data.model_dump(exclude_unset=True))
        if not values:
            unchanged = await self.find(store, row_id)
            if unchanged is None:
                raise self.missing()
            return unchanged
        query = self.statement(self.updates, values, self.update_of)
        async with changing(store, self.plural, row_id):
            row = await self.write(store, query, {**values, ROW: row_id})
        if row is None:
            raise self.missing()
        return self.model(row)

    async def delete(self, store: Store, row_id: int) -> None:
        try:
            async with changing(store, self.plural, row_id):
                row = await store.database.fetch_one(self.removal, **{ROW: row_id})
        except ConstraintViolated as violation:
            detail = await self.conflicts.of_delete(store.database, violation, row_id)
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
        if row is None:
            raise self.missing()

    # The parts.

    def model(self, row: Row) -> Read:
        """The response model of a row, without validating it again."""
        return self.read.model_construct(**row)

    def missing(self) -> HTTPException:
        return HTTPException(status.HTTP_404_NOT_FOUND, f"{self.label.capitalize()} not found")

    def values(self, sent: Values) -> Values:
        return self.derive(sent) if self.derive is not None and sent else sent

    def insert(self, columns: frozenset[str]) -> Statement:
        return Statement(insert(self.table).values(bound(columns)).returning(*self.columns))

    def update_of(self, columns: frozenset[str]) -> Statement:
        statement = update(self.table).where(self.key == bindparam(ROW)).values(bound(columns))
        return Statement(statement.returning(*self.columns))

    def statement(
        self,
        built: dict[frozenset[str], Statement],
        values: Values,
        build: Callable[[frozenset[str]], Statement],
    ) -> Statement:
        columns = frozenset(values)
        query = built.get(columns)
        if query is None:
            query = built[columns] = build(columns)
        return query

    async def write(self, store: Store, query: Statement, values: Values) -> Row | None:
        try:
            return await store.database.fetch_one(query, **values)
        except ConstraintViolated as violation:
            detail = await self.conflicts.of_write(store.database, violation, values)
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
