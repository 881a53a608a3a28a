"""What is built, what is measured against what, and the targets: the one place to change them.

Four builds cover every target:

- `sqlite`: the default combination, with every middleware that is on by default;
- `sqlite_no_gzip`: its twin without GZip, for what GZip costs clients that do not
  accept it;
- `postgres`: PostgreSQL without Redis, so that random ids measure the database path;
- `postgres_redis`: PostgreSQL with Redis, for the cache hit. Its item reads go through
  the cache, so random ids over it would measure a cache filling up, not PostgreSQL.

The reference apps run in the environment of the build whose data they read, so
each ratio compares two apps on the same libraries, server and database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.load import Endpoint
from bench.servers import App

ROWS = 10_000
CONNECTIONS = 64

BUILDS: dict[str, dict[str, Any]] = {
    "sqlite": {"database": "sqlite", "use_redis": False, "use_gzip": True},
    "sqlite_no_gzip": {"database": "sqlite", "use_redis": False, "use_gzip": False},
    "postgres": {"database": "postgres", "use_redis": False, "use_gzip": True},
    "postgres_redis": {"database": "postgres", "use_redis": True, "use_gzip": True},
}

SERVICE_SQLITE = App("service sqlite", "sqlite")
SERVICE_NO_GZIP = App("service sqlite no-gzip", "sqlite_no_gzip")
SERVICE_POSTGRES = App("service postgres", "postgres")
SERVICE_REDIS = App("service postgres+redis", "postgres_redis")
REF_HELLO = App("ref FastAPI hello", "sqlite", "hello_app:app", probe="/hello")
REF_BARE_HEALTH = App("ref /health, no middleware", "sqlite", "bare_health:app")
REF_AIOSQLITE = App("ref raw aiosqlite", "sqlite", "aiosqlite_items:app", "/api/v1/items/1")
REF_ASYNCPG = App("ref raw asyncpg", "postgres", "asyncpg_items:app", "/api/v1/items/1")

# Given to every generated service. With Redis, the service limits each client to 100
# requests a minute by default; wrk is one client, so the limit is raised out of reach:
# the limiter still runs (its cost is part of the figures) but never answers 429.
SERVICE_ENV = {"RATE_LIMIT_REQUESTS": "1000000000"}

APPS = [
    SERVICE_SQLITE,
    SERVICE_NO_GZIP,
    SERVICE_POSTGRES,
    SERVICE_REDIS,
    REF_HELLO,
    REF_BARE_HEALTH,
    REF_AIOSQLITE,
    REF_ASYNCPG,
]

ITEM_RANDOM = Endpoint("GET /api/v1/items/{random id}", "/api/v1/items/", random_max=ROWS)
ITEM_REPEATED = Endpoint("GET /api/v1/items/1 (same id)", "/api/v1/items/1")
HEALTH = Endpoint("GET /health", "/health")
HELLO = Endpoint("GET /hello", "/hello")
# Clients that do not accept gzip: what GZip costs when it cannot help.
LIST_PAGE = Endpoint(
    "GET /api/v1/items?limit=20, identity",
    "/api/v1/items?limit=20",
    headers={"Accept-Encoding": "identity"},
)

Measurement = tuple[App, Endpoint]


@dataclass(frozen=True)
class Ratio:
    """Throughput of `subject` over `baseline`, measured in the same rounds."""

    label: str
    subject: Measurement
    baseline: Measurement
    minimum: float | None  # None: printed for reading, no target
    needs_redis: bool = False


RATIOS = [
    Ratio(
        "items/{id} PostgreSQL vs raw asyncpg",
        (SERVICE_POSTGRES, ITEM_RANDOM),
        (REF_ASYNCPG, ITEM_RANDOM),
        0.9,
    ),
    Ratio(
        "items/{id} SQLite vs raw aiosqlite",
        (SERVICE_SQLITE, ITEM_RANDOM),
        (REF_AIOSQLITE, ITEM_RANDOM),
        0.9,
    ),
    Ratio(
        "cache hit (same id) vs FastAPI hello",
        (SERVICE_REDIS, ITEM_REPEATED),
        (REF_HELLO, HELLO),
        0.6,
        needs_redis=True,
    ),
    Ratio(
        "/health, all middleware vs FastAPI hello",
        (SERVICE_SQLITE, HEALTH),
        (REF_HELLO, HELLO),
        0.85,
    ),
    Ratio(
        "/health, all middleware vs none",
        (SERVICE_SQLITE, HEALTH),
        (REF_BARE_HEALTH, HEALTH),
        None,
    ),
    Ratio(
        "items?limit=20 identity, GZip on vs off",
        (SERVICE_SQLITE, LIST_PAGE),
        (SERVICE_NO_GZIP, LIST_PAGE),
        0.9,
    ),
]

# Latency fairness, for every measured endpoint of a generated service.
P99_OVER_P50_MAX = 5.0
# Per generated service.
COLD_START_MAX_SECONDS = 0.75
RSS_MAX_MIB = 90.0
# Cold start is also shown for the hello reference: the floor for this server and framework.
COLD_START_APPS = [SERVICE_SQLITE, SERVICE_NO_GZIP, SERVICE_POSTGRES, SERVICE_REDIS, REF_HELLO]


def measurements() -> list[Measurement]:
    """Each (app, endpoint) once, in the order the ratios name them."""
    seen: dict[tuple[str, str], Measurement] = {}
    for ratio in RATIOS:
        for app, endpoint in (ratio.subject, ratio.baseline):
            seen.setdefault(key((app, endpoint)), (app, endpoint))
    return list(seen.values())


def key(measurement: Measurement) -> tuple[str, str]:
    app, endpoint = measurement
    return app.name, endpoint.label
