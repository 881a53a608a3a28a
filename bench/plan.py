"""What is built, what is measured against what, and the targets: the one place to change them.

Six builds cover every target, each with a resource added by the project's own
generator (`RESOURCE`, the generated README's example) before it is installed:

- `sqlite`: the default combination, with every middleware that is on by default;
- `sqlite_no_gzip`: its twin without GZip, for what GZip costs a client it cannot help;
- `postgres`: PostgreSQL without Redis, so that reads measure the database path;
- `postgres_redis`: PostgreSQL with Redis, for the cache hit. Its reads go through
  the cache, so random ids over it would measure a cache filling up, not PostgreSQL;
- `postgres_no_auth`: `postgres` with `auth=none`, for what authentication costs a
  protected write and a protected read;
- `postgres_no_otel`: `postgres` with OpenTelemetry's packages left out of its
  dependencies (`LEFT_OUT`), the service as it would be without tracing: set against
  `postgres`, whose tracing is off, it shows what tracing costs while off.

Every build but the last has the default `auth=oauth2`: each request to it carries a
superuser's token, from its own password flow, as its clients' requests would.

A variant is one of those builds started with a setting that switches one layer off
(`METRICS_ENABLED=false`, `RATE_LIMIT_ENABLED=false`): set against the same build with
the layer on, in the same rounds, the difference is that layer's cost per request.
The reference apps run in the environment of the build whose data they read, so
each ratio compares two apps on the same libraries, server and database.

Writes are measured on PostgreSQL only; after each run their rows are deleted and the
table vacuumed, so that every read measured after them sees the tables as they were
filled, without dead row versions.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from bench.load import Endpoint
from bench.reference.queries import CREATED, PATCHED
from bench.servers import App
from harness.project import free_port

ROWS = 10_000
CATEGORIES = 20
CONNECTIONS = 64
# Pages start at a random offset among the first ones, so each read finds its rows
# as quickly as a read by id does and the figure is about the code, not OFFSET.
PAGE_OFFSETS = 1_000

# The generated README's example, added to every build: `make resource` does the same.
RESOURCE = ["name=order", "fields=title:str note:text? quantity:int price:decimal item:ref"]

BUILDS: dict[str, dict[str, Any]] = {
    "sqlite": {"database": "sqlite", "use_redis": False, "use_gzip": True},
    "sqlite_no_gzip": {"database": "sqlite", "use_redis": False, "use_gzip": False},
    "postgres": {"database": "postgres", "use_redis": False, "use_gzip": True},
    "postgres_redis": {"database": "postgres", "use_redis": True, "use_gzip": True},
    "postgres_no_auth": {"database": "postgres", "use_redis": False, "auth": "none"},
    "postgres_no_otel": {"database": "postgres", "use_redis": False, "use_gzip": True},
}
# Dependencies a build's pyproject.toml loses before it is installed, by name prefix.
LEFT_OUT: dict[str, tuple[str, ...]] = {"postgres_no_otel": ("opentelemetry-",)}

SERVICE_SQLITE = App("service sqlite", "sqlite")
SERVICE_NO_METRICS = App("service sqlite, metrics off", "sqlite", env={"METRICS_ENABLED": "false"})
SERVICE_NO_GZIP = App("service sqlite, no-gzip build", "sqlite_no_gzip")
SERVICE_POSTGRES = App("service postgres", "postgres")
SERVICE_POSTGRES_PROTECTED = App(
    "service postgres, items' reads protected", "postgres", env={"AUTH_PROTECTED_READS": "items"}
)
SERVICE_POSTGRES_NO_AUTH = App("service postgres, auth=none", "postgres_no_auth")
SERVICE_POSTGRES_NO_OTEL = App("service postgres, OpenTelemetry not installed", "postgres_no_otel")
# Every request traced (the always-on sampler), its spans exported to a local sink
# (bench/collector.py) on this port.
COLLECTOR_PORT = free_port()
SERVICE_POSTGRES_TRACED = App(
    "service postgres, traced",
    "postgres",
    env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{COLLECTOR_PORT}",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_SERVICE_NAME": "bench",
    },
)
SERVICE_REDIS = App("service postgres+redis", "postgres_redis")
SERVICE_REDIS_NO_LIMIT = App(
    "service postgres+redis, rate limit off",
    "postgres_redis",
    env={"RATE_LIMIT_ENABLED": "false"},
)
REF_HELLO = App("ref FastAPI hello", "sqlite", "hello_app:app", probe="/hello")
REF_HEALTH_ROUTE = App("ref service, /health as a route", "sqlite", "health_route:app")
REF_BARE_SERVICE = App(
    "ref service postgres, no middleware", "postgres", "bare_service:app", "/api/v1/items/1"
)
REF_AIOSQLITE = App("ref raw aiosqlite", "sqlite", "aiosqlite_app:app", "/api/v1/items/1")
REF_ASYNCPG = App("ref raw asyncpg", "postgres", "asyncpg_app:app", "/api/v1/items/1")
REF_SQLMODEL = App(
    "ref SQLModel docs' session route", "postgres", "sqlmodel_items:app", "/api/v1/items/1"
)

# Every server, generated or reference, runs as production does: production settings
# (no docs, no access log by default, JSON logs) with a secret made for this run.
# CORS is configured so that "every middleware" includes it; with Redis the service
# limits each client to 100 requests a minute, and wrk is one client, so the limit is
# raised out of reach: the limiter still does its work on every request, it just never
# answers 429.
# The superuser every `auth=oauth2` build creates at start, and signs in as.
SUPERUSER = ("bench@example.com", secrets.token_urlsafe(24))
SERVICE_ENV = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": secrets.token_hex(32),
    "FIRST_SUPERUSER": SUPERUSER[0],
    "FIRST_SUPERUSER_PASSWORD": SUPERUSER[1],
    # One token for the whole run.
    "ACCESS_TOKEN_MINUTES": "1440",
    "CORS_ORIGINS": "https://app.example.com",
    "RATE_LIMIT_REQUESTS": "1000000000",
    # Every app keeps its pool open for the whole run: eleven apps on PostgreSQL with 8
    # connections each stay below its default `max_connections` (100, 3 of them reserved).
    "DATABASE_POOL_SIZE": "8",
}
# Printed in the report instead of the secret.
SERVICE_ENV_SHOWN = {
    **SERVICE_ENV,
    "SECRET_KEY": "<64 random hex digits>",
    "FIRST_SUPERUSER_PASSWORD": "<32 random characters>",
}

APPS = [
    SERVICE_SQLITE,
    SERVICE_NO_METRICS,
    SERVICE_NO_GZIP,
    SERVICE_POSTGRES,
    SERVICE_POSTGRES_PROTECTED,
    SERVICE_POSTGRES_NO_AUTH,
    SERVICE_POSTGRES_NO_OTEL,
    SERVICE_POSTGRES_TRACED,
    SERVICE_REDIS,
    SERVICE_REDIS_NO_LIMIT,
    REF_HELLO,
    REF_HEALTH_ROUTE,
    REF_BARE_SERVICE,
    REF_AIOSQLITE,
    REF_ASYNCPG,
    REF_SQLMODEL,
]

JSON = {"Content-Type": "application/json"}

ITEM = Endpoint("GET /api/v1/items/{random id}", "/api/v1/items/", random_max=ROWS)
ITEMS = Endpoint(
    "GET /api/v1/items?offset={random}", "/api/v1/items?offset=", random_max=PAGE_OFFSETS
)
CATEGORY = Endpoint(
    "GET /api/v1/categories/{random id}", "/api/v1/categories/", random_max=CATEGORIES
)
# All 20 categories, each with its item count: one GROUP BY over every item.
CATEGORIES_PAGE = Endpoint("GET /api/v1/categories", "/api/v1/categories")
ORDER = Endpoint("GET /api/v1/orders/{random id}", "/api/v1/orders/", random_max=ROWS)
ORDERS = Endpoint(
    "GET /api/v1/orders?offset={random}", "/api/v1/orders?offset=", random_max=PAGE_OFFSETS
)
ITEM_REPEATED = Endpoint("GET /api/v1/items/1 (same id)", "/api/v1/items/1")
HEALTH = Endpoint("GET /health", "/health")
HELLO = Endpoint("GET /hello", "/hello")
# Bodies with the columns whose INSERT and UPDATE `queries` holds, so the SQL check covers them.
CREATE_BODY = dict(zip(CREATED, ["A new item", "Made by the benchmark.", "19.90", 3], strict=True))
UPDATE_BODY = dict(zip(PATCHED, ["A renamed item", "12.50"], strict=True))
ITEM_CREATE = Endpoint(
    "POST /api/v1/items",
    "/api/v1/items",
    method="POST",
    body=json.dumps(CREATE_BODY),
    headers=JSON,
    cleanup_sql=(f"DELETE FROM item WHERE id > {ROWS}", "VACUUM item"),
)
ITEM_UPDATE = Endpoint(
    "PATCH /api/v1/items/{random id}",
    "/api/v1/items/",
    random_max=ROWS,
    method="PATCH",
    body=json.dumps(UPDATE_BODY),
    headers=JSON,
    cleanup_sql=("VACUUM item",),
)

# The reads every resource has (items, categories, the generated orders), by id and by page.
READS = [
    ("items by id", ITEM),
    ("items by page", ITEMS),
    ("categories by id (+ 20 items)", CATEGORY),
    ("categories by page (counts)", CATEGORIES_PAGE),
    ("orders by id", ORDER),
    ("orders by page", ORDERS),
]
# Which of `queries`' statements each reference endpoint runs, for the SQL check.
STATEMENTS = {
    ITEM.label: ("items.by_id",),
    ITEMS.label: ("items.page",),
    CATEGORY.label: ("categories.by_id", "categories.items"),
    CATEGORIES_PAGE.label: ("categories.page",),
    ORDER.label: ("orders.by_id",),
    ORDERS.label: ("orders.page",),
    ITEM_CREATE.label: ("items.insert",),
    ITEM_UPDATE.label: ("items.update",),
}
# The references that run `queries`' SQL (on the database of their build).
RAW_REFERENCES = [REF_ASYNCPG, REF_AIOSQLITE]

Measurement = tuple[App, Endpoint]


@dataclass(frozen=True)
class Ratio:
    """`subject` against `baseline`, measured in the same rounds.

    With a `minimum` it is a target; without, a layer's cost, printed for reading.
    """

    label: str
    subject: Measurement
    baseline: Measurement
    minimum: float | None = None
    needs_cache_hit: bool = False


@dataclass(frozen=True)
class Variant:
    """A part the service makes itself, against the maintained library's way of doing it.

    `home_made` is the request with the service's part, `library` the same request
    with the library's. What the library's way costs more is set against `whole`, the
    request of the service it would change (`home_made` unless given): the issue keeps
    a home-made part only where the library's way costs at least `KEEP_IF_DEARER` more.
    """

    label: str
    library: Measurement
    home_made: Measurement
    whole: Measurement | None = None

    @property
    def sides(self) -> tuple[Measurement, Measurement]:
        return self.library, self.home_made


KEEP_IF_DEARER = 0.10

TARGETS = [
    *(
        Ratio(f"{name}, PostgreSQL vs raw asyncpg", (SERVICE_POSTGRES, e), (REF_ASYNCPG, e), 0.9)
        for name, e in READS
    ),
    *(
        Ratio(f"{name}, SQLite vs raw aiosqlite", (SERVICE_SQLITE, e), (REF_AIOSQLITE, e), 0.9)
        for name, e in READS
    ),
    Ratio(
        "create (POST items) vs raw asyncpg",
        (SERVICE_POSTGRES, ITEM_CREATE),
        (REF_ASYNCPG, ITEM_CREATE),
        0.8,
    ),
    Ratio(
        "update (PATCH items) vs raw asyncpg",
        (SERVICE_POSTGRES, ITEM_UPDATE),
        (REF_ASYNCPG, ITEM_UPDATE),
        0.8,
    ),
    # At most 10 % more CPU than the same route without authentication.
    Ratio(
        "protected write (POST items), auth vs auth=none",
        (SERVICE_POSTGRES, ITEM_CREATE),
        (SERVICE_POSTGRES_NO_AUTH, ITEM_CREATE),
        1 / 1.1,
    ),
    Ratio(
        "protected read (items by id), auth vs auth=none",
        (SERVICE_POSTGRES_PROTECTED, ITEM),
        (SERVICE_POSTGRES_NO_AUTH, ITEM),
        1 / 1.1,
    ),
    Ratio(
        "cache hit, rate limit on, vs FastAPI hello",
        (SERVICE_REDIS, ITEM_REPEATED),
        (REF_HELLO, HELLO),
        0.5,
        needs_cache_hit=True,
    ),
    Ratio(
        "/health, every middleware, vs FastAPI hello",
        (SERVICE_SQLITE, HEALTH),
        (REF_HELLO, HELLO),
        1.0,
    ),
]

# Each layer's cost: the same request with the layer and without it.
LAYERS = [
    Ratio(
        "middleware stack and app, on a routed request",
        (REF_HEALTH_ROUTE, HEALTH),
        (REF_HELLO, HELLO),
    ),
    Ratio(
        "everything around the query, PostgreSQL read by id",
        (SERVICE_POSTGRES, ITEM),
        (REF_ASYNCPG, ITEM),
    ),
    Ratio(
        "the middleware stack, PostgreSQL read by id",
        (SERVICE_POSTGRES, ITEM),
        (REF_BARE_SERVICE, ITEM),
    ),
    Ratio(
        "the pattern's route without middleware, around the query",
        (REF_BARE_SERVICE, ITEM),
        (REF_ASYNCPG, ITEM),
    ),
    Ratio(
        "everything around the query, SQLite read by id",
        (SERVICE_SQLITE, ITEM),
        (REF_AIOSQLITE, ITEM),
    ),
    Ratio(
        "everything around the INSERT, create",
        (SERVICE_POSTGRES, ITEM_CREATE),
        (REF_ASYNCPG, ITEM_CREATE),
    ),
    Ratio(
        "tracing off vs OpenTelemetry not installed, PostgreSQL read by id",
        (SERVICE_POSTGRES, ITEM),
        (SERVICE_POSTGRES_NO_OTEL, ITEM),
    ),
    Ratio(
        "tracing on (every request, batch export), PostgreSQL read by id",
        (SERVICE_POSTGRES_TRACED, ITEM),
        (SERVICE_POSTGRES, ITEM),
    ),
    Ratio(
        "metrics middleware, SQLite read by id",
        (SERVICE_SQLITE, ITEM),
        (SERVICE_NO_METRICS, ITEM),
    ),
    Ratio(
        "GZip middleware (client without gzip), SQLite read",
        (SERVICE_SQLITE, ITEM),
        (SERVICE_NO_GZIP, ITEM),
    ),
    Ratio(
        "rate limiter (a Redis round trip), cache hit",
        (SERVICE_REDIS, ITEM_REPEATED),
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
    ),
    Ratio(
        "response cache: a hit vs reading PostgreSQL",
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
        (SERVICE_POSTGRES, ITEM),
    ),
    Ratio(
        "cache hit without the rate limiter vs FastAPI hello",
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
        (REF_HELLO, HELLO),
    ),
    Ratio(
        "ORM session (AsyncSession.get) vs pool.fetchrow, bare apps",
        (REF_SQLMODEL, ITEM),
        (REF_ASYNCPG, ITEM),
    ),
]

# Every home-made part the service keeps, against the library's way, in the same rounds.
VARIANTS = [
    Variant(
        "liveness probe before routing (middleware/probes.py) vs /health as a route",
        library=(REF_HEALTH_ROUTE, HEALTH),
        home_made=(SERVICE_SQLITE, HEALTH),
    ),
    Variant(
        "Resource's statements on asyncpg's pool vs SQLModel docs' session route",
        library=(REF_SQLMODEL, ITEM),
        home_made=(SERVICE_POSTGRES, ITEM),
    ),
]

RATIOS = TARGETS + LAYERS
PAIRS: list[tuple[Measurement, Measurement]] = [
    *((ratio.subject, ratio.baseline) for ratio in RATIOS),
    *(variant.sides for variant in VARIANTS),
]

# Latency fairness at CONNECTIONS open connections, for every measured endpoint of a
# generated service: no failed request, and p99 at most this many times p50.
P99_OVER_P50_MAX = 5.0
# Per generated build: launch to first 200 at most this many times the hello reference's.
COLD_START_OVER_HELLO_MAX = 1.6
# Per generated app without Redis, the worker's resident memory after the load.
RSS_MAX_MIB = 80.0
# One app per build (its default settings) and the hello reference, the floor.
COLD_START_APPS = [
    SERVICE_SQLITE,
    SERVICE_NO_GZIP,
    SERVICE_POSTGRES,
    SERVICE_POSTGRES_NO_OTEL,
    SERVICE_REDIS,
    REF_HELLO,
]


def measurements() -> list[Measurement]:
    """Each (app, endpoint) once, in the order the ratios name them."""
    seen: dict[tuple[str, str], Measurement] = {}
    for pair in PAIRS:
        for measurement in pair:
            seen.setdefault(key(measurement), measurement)
    return list(seen.values())


def key(measurement: Measurement) -> tuple[str, str]:
    app, endpoint = measurement
    return app.name, endpoint.label
