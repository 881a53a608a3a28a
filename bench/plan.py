"""What is built, what is measured against what, and the targets: the one place to change them.

Four builds cover every target:

- `sqlite`: the default combination, with every middleware that is on by default;
- `sqlite_no_gzip`: its twin without GZip, for what GZip costs a client it cannot help;
- `postgres`: PostgreSQL without Redis, so that random ids measure the database path;
- `postgres_redis`: PostgreSQL with Redis, for the cache hit. Its item reads go through
  the cache, so random ids over it would measure a cache filling up, not PostgreSQL.

A variant is one of those builds started with a setting that switches one layer off
(`METRICS_ENABLED=false`, `RATE_LIMIT_ENABLED=false`): set against the same build with
the layer on, in the same rounds, the difference is that layer's cost per request.
The reference apps run in the environment of the build whose data they read, so
each ratio compares two apps on the same libraries, server and database.
"""

from __future__ import annotations

import secrets
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
SERVICE_NO_METRICS = App("service sqlite, metrics off", "sqlite", env={"METRICS_ENABLED": "false"})
SERVICE_NO_GZIP = App("service sqlite, no-gzip build", "sqlite_no_gzip")
SERVICE_POSTGRES = App("service postgres", "postgres")
SERVICE_REDIS = App("service postgres+redis", "postgres_redis")
SERVICE_REDIS_NO_LIMIT = App(
    "service postgres+redis, rate limit off",
    "postgres_redis",
    env={"RATE_LIMIT_ENABLED": "false"},
)
REF_HELLO = App("ref FastAPI hello", "sqlite", "hello_app:app", probe="/hello")
REF_BARE_HEALTH = App("ref /health, no middleware", "sqlite", "bare_health:app")
REF_AIOSQLITE = App("ref raw aiosqlite", "sqlite", "aiosqlite_items:app", "/api/v1/items/1")
REF_ASYNCPG = App("ref raw asyncpg", "postgres", "asyncpg_items:app", "/api/v1/items/1")

# Every server, generated or reference, runs as production does: production settings
# (no docs, no access log by default, JSON logs) with a secret made for this run.
# CORS is configured so that "every middleware" includes it; with Redis the service
# limits each client to 100 requests a minute, and wrk is one client, so the limit is
# raised out of reach: the limiter still does its work on every request, it just never
# answers 429.
SERVICE_ENV = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": secrets.token_hex(32),
    "CORS_ORIGINS": "https://app.example.com",
    "RATE_LIMIT_REQUESTS": "1000000000",
}
# Printed in the report instead of the secret.
SERVICE_ENV_SHOWN = {**SERVICE_ENV, "SECRET_KEY": "<64 random hex digits>"}

APPS = [
    SERVICE_SQLITE,
    SERVICE_NO_METRICS,
    SERVICE_NO_GZIP,
    SERVICE_POSTGRES,
    SERVICE_REDIS,
    SERVICE_REDIS_NO_LIMIT,
    REF_HELLO,
    REF_BARE_HEALTH,
    REF_AIOSQLITE,
    REF_ASYNCPG,
]

ITEM_RANDOM = Endpoint("GET /api/v1/items/{random id}", "/api/v1/items/", random_max=ROWS)
ITEM_REPEATED = Endpoint("GET /api/v1/items/1 (same id)", "/api/v1/items/1")
HEALTH = Endpoint("GET /health", "/health")
HELLO = Endpoint("GET /hello", "/hello")

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


TARGETS = [
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
        "Redis cache hit vs FastAPI hello",
        (SERVICE_REDIS, ITEM_REPEATED),
        (REF_HELLO, HELLO),
        0.6,
        needs_cache_hit=True,
    ),
    Ratio(
        "/health, every middleware vs FastAPI hello",
        (SERVICE_SQLITE, HEALTH),
        (REF_HELLO, HELLO),
        1.0,
    ),
]

# Each layer's cost: the same request with the layer and without it.
LAYERS = [
    Ratio(
        "middleware stack and app setup, on /health",
        (SERVICE_SQLITE, HEALTH),
        (REF_BARE_HEALTH, HEALTH),
    ),
    Ratio(
        "everything around the query, SQLite read",
        (SERVICE_SQLITE, ITEM_RANDOM),
        (REF_AIOSQLITE, ITEM_RANDOM),
    ),
    Ratio(
        "metrics middleware, SQLite read",
        (SERVICE_SQLITE, ITEM_RANDOM),
        (SERVICE_NO_METRICS, ITEM_RANDOM),
    ),
    Ratio(
        "GZip middleware (client without gzip), SQLite read",
        (SERVICE_SQLITE, ITEM_RANDOM),
        (SERVICE_NO_GZIP, ITEM_RANDOM),
    ),
    Ratio(
        "everything around the query, PostgreSQL read",
        (SERVICE_POSTGRES, ITEM_RANDOM),
        (REF_ASYNCPG, ITEM_RANDOM),
    ),
    Ratio(
        "rate limiter (a Redis round trip), cache hit",
        (SERVICE_REDIS, ITEM_REPEATED),
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
    ),
    Ratio(
        "response cache: a hit vs reading PostgreSQL, same id",
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
        (SERVICE_POSTGRES, ITEM_REPEATED),
    ),
    Ratio(
        "cache hit without the rate limiter vs FastAPI hello",
        (SERVICE_REDIS_NO_LIMIT, ITEM_REPEATED),
        (REF_HELLO, HELLO),
    ),
]

RATIOS = TARGETS + LAYERS

# Latency fairness at CONNECTIONS open connections, for every measured endpoint of a
# generated service: no failed request, and p99 at most this many times p50.
P99_OVER_P50_MAX = 5.0
# Per generated build: launch to first 200 at most this many times the hello reference's.
COLD_START_OVER_HELLO_MAX = 1.6
# Per generated app, the worker's resident memory after the load.
RSS_MAX_MIB = 80.0
# One app per build (its default settings) and the hello reference, the floor.
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
