"""Liveness and readiness, for load balancers and orchestrators."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
{% if cookiecutter.use_redis %}
from redis.asyncio import Redis
{% endif %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
{% if cookiecutter.use_celery %}

from ...jobs.enqueue import broker_answers
{% endif %}

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0
Check = Literal["ok", "failing"]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    # degraded: serving, with an optional dependency (named in `checks`) failing.
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, Check]


ALIVE = Health(status="ok").model_dump_json().encode()


@router.get("/health", response_model=Health)
async def health() -> Response:
    """The process is alive; touches nothing else, so it stays cheap and never flaps.

    Probes call this every few seconds on every replica, so `middleware.probes` sends
    these bytes before routing; the route documents the endpoint in OpenAPI.
    """
    return Response(ALIVE, media_type="application/json")


async def _database_answers(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
{% if cookiecutter.use_redis %}


async def _redis_answers(redis: Redis) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis.ping()
    except Exception:
        return False
    return True
{% endif %}


def _check(answered: bool) -> Check:
    return "ok" if answered else "failing"


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def ready(request: Request, response: Response) -> Readiness:
    """Ready while the database answers: without it nothing can be served.

    Other dependencies only degrade the service (the cache falls back to the
    database, only enqueueing needs the broker), so their failure is reported in
    the body but keeps the replica in the load balancer: otherwise losing an
    optional dependency would take every replica out at once.
    """
    state = request.app.state
    checks = {"database": _check(await _database_answers(state.database.engine))}
{% if cookiecutter.use_redis %}
    checks["redis"] = _check(await _redis_answers(state.redis))
{% endif %}
{% if cookiecutter.use_celery %}
    checks["broker"] = _check(await broker_answers(CHECK_TIMEOUT_SECONDS))
{% endif %}
    if checks["database"] == "failing":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="unavailable", checks=checks)
    degraded = "failing" in checks.values()
    return Readiness(status="degraded" if degraded else "ready", checks=checks)
