"""Dependencies that hand out what the lifespan opened."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel.ext.asyncio.session import AsyncSession

{% if cookiecutter.use_redis %}
from ..cache import ResponseCache
{% endif %}
from ..core.config import Settings
{% if cookiecutter.database == "sqlite" %}
from ..core.db import IMMEDIATE
{% endif %}

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session_factory(request: Request) -> SessionFactory:
    """For handlers that need a session only sometimes (e.g. on a cache miss)."""
    factory: SessionFactory = request.app.state.sessionmaker
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
{% if cookiecutter.use_redis %}


def get_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.cache
    return cache
{% endif %}


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
{% if cookiecutter.use_redis %}
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
{% endif %}


class Page:
    """`limit`/`offset` query parameters, with `limit` capped by settings."""

    def __init__(
        self,
        settings: SettingsDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> None:
        self.limit = min(limit, settings.page_size_max)
        self.offset = offset


PageDep = Annotated[Page, Depends()]
