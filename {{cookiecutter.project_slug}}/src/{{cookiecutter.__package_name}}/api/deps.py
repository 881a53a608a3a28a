"""Dependencies that hand out what the lifespan opened.

They are `async def` although they do no I/O: FastAPI runs a plain `def`
dependency in the thread pool, which costs more than the work itself.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from ..core.config import Settings
{% if cookiecutter.database == "sqlite" %}
from ..core.db import IMMEDIATE
{% endif %}
from .caching import ResponseCache

# The largest page a list endpoint returns (in OpenAPI as the maximum of `limit`).
PAGE_SIZE_MAX = 100

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session_factory(request: Request) -> SessionFactory:
    """Read-write sessions: one transaction per request."""
    factory: SessionFactory = request.app.state.database.sessionmaker
    return factory


async def get_reader_factory(request: Request) -> SessionFactory:
    """Sessions for single reads, in autocommit: no BEGIN and ROLLBACK around one SELECT.

    A factory rather than a session, so a handler opens one only when it needs it
    (not on a cache hit).
    """
    factory: SessionFactory = request.app.state.database.reader_sessionmaker
    return factory


async def get_session(
    factory: Annotated[SessionFactory, Depends(get_session_factory)],
) -> AsyncIterator[AsyncSession]:
    """The read-write session of a request (reads on the fast path use the factory)."""
    async with factory() as session:
{% if cookiecutter.database == "sqlite" %}
        if not session.in_transaction():
            await session.connection(execution_options={IMMEDIATE: True})
{% endif %}
        yield session


async def get_cache(request: Request) -> ResponseCache:
    """The response cache, or `NoCache` in a project without one."""
    cache: ResponseCache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReaderFactoryDep = Annotated[SessionFactory, Depends(get_reader_factory)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def get_page(
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page:
    """`limit`/`offset` query parameters; a `limit` above the maximum is a 422, as documented."""
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]
