"""Dependencies that hand out what the lifespan opened, and the parameters routes share.

They are `async def` although they do no I/O: FastAPI runs a plain `def`
dependency in the thread pool, which costs more than the work itself.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from ..core.config import Settings
from ..models.common import ID_MAX
from ..services import Services, Store

# The largest page a list endpoint returns (in OpenAPI as the maximum of `limit`).
PAGE_SIZE_MAX = 100
# The furthest a page may start; deeper paging should filter instead.
OFFSET_MAX = 1_000_000


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    return services_of(request).settings


async def get_store(request: Request) -> Store:
    return services_of(request).store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
# A row's id in a path: a 422 outside the column's range, never a database error.
Id = Annotated[int, Path(ge=1, le=ID_MAX)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def get_page(
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> Page:
    """`limit`/`offset` query parameters; a `limit` above the maximum is a 422, as documented."""
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]
